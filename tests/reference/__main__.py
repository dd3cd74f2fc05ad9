"""``python -m tests.reference``: print every dataset's reference summary as JSON."""

import json

from .datasets import ALL, summary

for dataset in ALL:
    print(dataset, json.dumps(summary(dataset), sort_keys=True))
