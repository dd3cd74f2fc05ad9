"""CDR-type records (Asterisk CDR, FreeSWITCH CDR, cloud-PBX call exports) -> the canonical model.

One module per format (``asterisk``, ``freeswitch``, ``generic``) reads its file into staged rows
(``staging``) and hands them to the file driver (``driver.load_records``), which keeps them in
``cdr_records`` and rebuilds the calls they touch (``rebuild``: ``calls`` builds them, ``writer``
writes them, ``reconcile`` merges them with the same calls from queue_log; ``findings`` are the
file-level data-quality findings). docs/formats.md explains the rules with examples.
"""
