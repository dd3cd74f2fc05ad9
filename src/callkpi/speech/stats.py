"""What the speaking time of a transcript shows: each party's speech, silence, the agent's longest
monologue and interruptions. Times are the utterances' (seconds from the start of the recording)."""

from __future__ import annotations

from dataclasses import dataclass

from callkpi.speech.transcript import AGENT, CUSTOMER, Utterance

# Speech of one party with pauses shorter than this in between is one stretch of a monologue.
MONOLOGUE_GAP_S = 2.0


@dataclass(frozen=True)
class SpeechStats:
    span_s: float  # from the start of the recording to the end of the last utterance
    agent_speech_s: float
    customer_speech_s: float
    silence_s: float  # nobody speaks
    agent_longest_monologue_s: float
    agent_interruptions: int  # the agent starts speaking while the customer speaks
    customer_interruptions: int


def union_length(spans: list[tuple[float, float]]) -> float:
    total, end = 0.0, float("-inf")
    for first, last in sorted(spans):
        if last <= end:
            continue
        total += last - max(first, end)
        end = last
    return total


def _interruptions(utterances: list[Utterance], speaker: str) -> int:
    """Utterances of ``speaker`` that start while the other party is speaking (strictly inside)."""
    others = [(u.start_s, u.end_s) for u in utterances if u.speaker != speaker]
    return sum(1 for u in utterances if u.speaker == speaker
               and any(first < u.start_s < last for first, last in others))


def _longest_monologue(utterances: list[Utterance], speaker: str) -> float:
    """The longest stretch of ``speaker``'s speech that the other party does not break into, with
    pauses under MONOLOGUE_GAP_S inside it."""
    longest, start, end = 0.0, None, None
    for u in sorted(utterances, key=lambda x: x.start_s):
        if u.speaker != speaker:
            if end is not None and u.start_s < end:
                continue  # a back-channel ("ага") inside the monologue does not end it
            start = end = None
            continue
        if start is None or end is None or u.start_s - end > MONOLOGUE_GAP_S:
            start, end = u.start_s, u.end_s
        else:
            end = max(end, u.end_s)
        longest = max(longest, end - start)
    return longest


def speech_stats(utterances: list[Utterance]) -> SpeechStats:
    spans = [(u.start_s, u.end_s) for u in utterances]
    span = max((last for _, last in spans), default=0.0)
    agent = union_length([(u.start_s, u.end_s) for u in utterances if u.speaker == AGENT])
    customer = union_length([(u.start_s, u.end_s) for u in utterances if u.speaker == CUSTOMER])
    return SpeechStats(
        span_s=span,
        agent_speech_s=agent,
        customer_speech_s=customer,
        silence_s=max(0.0, span - union_length(spans)),
        agent_longest_monologue_s=_longest_monologue(utterances, AGENT),
        agent_interruptions=_interruptions(utterances, AGENT),
        customer_interruptions=_interruptions(utterances, CUSTOMER),
    )
