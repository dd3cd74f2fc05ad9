"""Call transcripts: reading them (JSON, WebVTT, SRT), what the speaking time shows (talk/listen,
silence, monologues, interruptions), and whether the agent followed the script of the call type."""
