"""Every action_id, block_id and callback_id in one place, so listeners and builders cannot drift apart."""

# buttons on the incident card and reminders
TAKE_IC = "tocsin_take_ic"
JOIN_SME = "tocsin_join_sme"
POST_UPDATE = "tocsin_post_update"
RESOLVE = "tocsin_resolve"
# page DMs
PAGE_ACK = "tocsin_page_ack"
PAGE_DECLINE = "tocsin_page_decline"
# action items
ACTION_DONE = "tocsin_action_done"

# modals
DECLARE_VIEW = "tocsin_declare"
UPDATE_VIEW = "tocsin_update"
RESOLVE_VIEW = "tocsin_resolve_view"

# modal inputs: (block_id, action_id)
IN_TITLE = ("title", "title")
IN_SEVERITY = ("severity", "severity")
IN_SUMMARY = ("summary", "summary")
IN_PRIVATE = ("private", "private")
IN_STATUS = ("status", "status")
IN_UPDATE_TEXT = ("update_text", "update_text")
IN_RESOLUTION = ("resolution", "resolution")
IN_IMPACT = ("impact", "impact")
IN_CAUSE = ("cause", "cause")
