"""Slack's Block Kit limits that a feedback modal must stay within (reference/apis.md B7/B8)."""

from __future__ import annotations

MODAL_MAX_BLOCKS = 100
SELECT_MAX_OPTIONS = 100
RADIO_MAX_OPTIONS = 10  # radio buttons and checkboxes
OPTION_TEXT_MAX = 75
OPTION_VALUE_MAX = 150
LABEL_MAX = 2000
HINT_MAX = 2000
TEXT_MAX = 3000  # plain_text_input's own ceiling for max_length
PRIVATE_METADATA_MAX = 3000
MRKDWN_MAX = 3000
