"""English and Russian strings of the transcript on the call page, the stage suggestions of the QA
review and the stages against won deals (added to :data:`callkpi.web.i18n.STRINGS`)."""

from __future__ import annotations

SPEECH_STRINGS: dict[str, tuple[str, str]] = {
    "speech_transcript": ("Transcript", "Расшифровка"),
    "speech_script": ("Script", "Скрипт"),
    "speech_no_script": ("No script checks this call.", "Звонок не проверяется ни одним скриптом."),
    "speech_adherence": ("Script adherence", "Соблюдение скрипта"),
    "speech_required_done": ("Required stages done", "Выполнено обязательных этапов"),
    "speech_in_order": ("Stages in order", "Этапы по порядку"),
    "speech_forbidden": ("Forbidden phrases", "Запрещённые фразы"),
    "speech_forbidden_said": ("forbidden phrase", "запрещённая фраза"),
    "speech_agent_share": ("Agent talk share", "Доля речи оператора"),
    "speech_silence": ("Silence", "Доля тишины"),
    "speech_monologue": ("Longest monologue", "Самый длинный монолог"),
    "speech_interruptions": ("Interruptions by the agent", "Перебивания оператором"),
    "speech_stages": ("Stages", "Этапы"),
    "speech_stage": ("Stage", "Этап"),
    "speech_done": ("done", "выполнен"),
    "speech_not_done": ("not done", "не выполнен"),
    "speech_optional": ("optional", "необязательный"),
    "speech_speaker": ("Speaker", "Говорит"),
    "speech_text": ("Text", "Текст"),
    "speech_agent": ("agent", "оператор"),
    "speech_customer": ("customer", "клиент"),
    "speech_suggested_done": ("suggested from the transcript: the agent did this stage (confirm)",
                              "подсказка по расшифровке: оператор выполнил этот этап (подтвердите)"),
    "speech_suggested_missed": ("suggested from the transcript: the agent did not do this stage (confirm)",
                                "подсказка по расшифровке: оператор не выполнил этот этап (подтвердите)"),
    "speech_suggestion_note": ("Scores marked as suggested come from the script stages found in the transcript; "
                               "nothing is saved until you save the review.",
                               "Оценки с подсказкой взяты из этапов скрипта, найденных в расшифровке; ничего "
                               "не сохраняется, пока вы не сохраните оценку."),
    "qa_reason_low_adherence": ("low script adherence", "низкое соблюдение скрипта"),
    "speech_adherence_below": ("adherence below", "соблюдение ниже"),
    "speech_stage_deals": ("Script stages on calls that led to a won deal",
                           "Этапы скрипта в звонках, приведших к сделке"),
    "speech_stage_deals_hint": (
        "Per agent and stage, over all transcripts checked against a script: how often the stage was done on calls "
        "a won deal is attributed to (as conversion counts them) and on the other calls. An association, not an "
        "effect.",
        "По оператору и этапу, по всем расшифровкам, проверенным по скрипту: как часто этап выполнен в звонках, "
        "которым атрибутирована выигранная сделка (как в конверсии), и в остальных звонках. Это связь, а не "
        "доказанный эффект."),
    "speech_won_calls": ("Won-deal calls", "Звонки со сделкой"),
    "speech_won_completion": ("Done on won-deal calls", "Выполнен в звонках со сделкой"),
    "speech_other_calls": ("Other calls", "Прочие звонки"),
    "speech_other_completion": ("Done on other calls", "Выполнен в прочих"),
    "speech_difference": ("Difference", "Разница"),
    "speech_all_agents": ("all agents", "все операторы"),
    "speech_yes": ("yes", "да"),
    "speech_no": ("no", "нет"),
    "scripts_title": ("Call scripts", "Скрипты звонков"),
    "scripts_export_yaml": ("Export YAML", "Выгрузить YAML"),
    "scripts_required_phrases": ("Example phrases", "Примеры фраз"),
    "scripts_required": ("Required", "Обязательный"),
    "scripts_forbidden_none": ("none", "нет"),
    "scripts_applies_to": ("Checks", "Проверяет"),
    "scripts_all_calls": ("calls of this type", "звонки этого типа"),
    "scripts_default": ("shipped default (not saved yet)", "встроенный по умолчанию (ещё не сохранён)"),
    "scripts_edit": ("Edit as YAML", "Изменить в YAML"),
    "scripts_new": ("New or changed scripts (YAML with a `scripts:` list)",
                    "Новые или изменённые скрипты (YAML со списком `scripts:`)"),
    "scripts_edit_hint": (
        "Saving gives each changed script a new version and checks every transcript again against it.",
        "При сохранении каждый изменённый скрипт получает новую версию, и все расшифровки проверяются по нему заново."),
    "scripts_saved": ("Saved: every transcript was checked again.", "Сохранено: все расшифровки проверены заново."),
    "transfers_title": ("Transfers (from the CEL)", "Переводы (по CEL)"),
    "transfer_kind": ("Transfer", "Перевод"),
    "transfer_blind": ("blind", "слепой"),
    "transfer_attended": ("attended", "с консультацией"),
    "transfer_from": ("Transferred by", "Перевёл"),
    "transfer_to": ("Received by", "Принял"),
    "transfer_target": ("Dialled target", "Куда переведён"),
}
