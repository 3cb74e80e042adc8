"""action_id and callback_id values shared by the builders and the listeners.

A card's buttons carry the bet's database id in `value` (as a string); listeners always
re-check the team, so a forged value can only reach the clicker's own workspace.
"""

# Buttons on a card, a nudge or a reply prompt. value = str(bet.id)
START = "bet_start"
SHIP = "bet_ship"
ADD_EVIDENCE = "bet_evidence"  # opens the evidence modal
VALIDATE = "bet_validate"  # opens the close modal (validate)
INVALIDATE = "bet_invalidate"  # opens the close modal (invalidate)
KILL = "bet_kill"  # opens the close modal (kill)
SNOOZE = "bet_snooze"  # snoozes 3 days
# On a nudge: open the evidence modal with the verdict chosen.
NUDGE_SUPPORTS = "nudge_supports"
NUDGE_REFUTES = "nudge_refutes"

# Buttons under a thread reply that became evidence. value = str(evidence.id)
VERDICT_SUPPORTS = "evidence_supports"
VERDICT_REFUTES = "evidence_refutes"
VERDICT_NOTE = "evidence_note"
REPLY_VALIDATE = "evidence_validate"
REPLY_INVALIDATE = "evidence_invalidate"

# App Home / anywhere: open the New bet modal.
NEW_BET = "bet_new"

# Modals. private_metadata is JSON: {"channel_id": ..., "bet_id": ..., "move": ...}
NEW_BET_VIEW = "new_bet"
EVIDENCE_VIEW = "bet_evidence_view"
CLOSE_VIEW = "bet_close_view"

# Message shortcut "Record as evidence" (manifest callback_id), its modal, and the bet picker
# (an external_select whose options come from a block_suggestion listener; value = bet id).
RECORD_EVIDENCE = "record_evidence"
RECORD_EVIDENCE_VIEW = "record_evidence_view"
F_BET = "bet"
F_NOTE = "note"

# Input blocks in the modals: block_id == action_id for each field.
F_TITLE = "title"
F_HYPOTHESIS = "hypothesis"
F_SIGNAL = "signal"
F_OWNER = "owner"
F_LINK = "link"
F_EXPECT = "expect"
F_CHANNEL = "channel"
F_TEXT = "text"  # evidence text or kill reason
F_VERDICT = "verdict"
F_LEARNED = "learned"
