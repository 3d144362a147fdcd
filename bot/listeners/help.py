"""The `/incident help` text: one place that lists every sub-command (the README mirrors it)."""

HELP = """*Tocsin: incidents from Slack*
*Declare*
• `/incident` or `/incident declare`: open the form (title, severity, summary, private?)
• `/incident declare <sev> <title…>`: declare at once, e.g. `/incident declare sev2 Checkout latency spike`
*In an incident channel*
• `/incident ic @user` · `/incident sme @user`: give roles (also the card's *Take IC* / *Join as SME* buttons)
• `/incident status investigating|identified|monitoring|resolved`
• `/incident severity <sev>` · `/incident note <text>` · `/incident timeline`
• `/incident update <text>`: post a status update (also the card's *Post update* button)
• `/incident resolve [summary]`: with text resolves at once; without, opens the resolution form
• `/incident reopen` · `/incident impact <text>` · `/incident cause <text>`
• `/incident action <text> [@owner]` · `/incident actions`: follow-up action items
• `/incident page @user|<schedule>|<team>`: page someone by hand
• `/incident postmortem`: generate the postmortem into the channel canvas and a .md file
*Anywhere*
• `/incident list`: open incidents · `/incident oncall [schedule|team]`: who is on call
• `/incident override <schedule> @user <duration>|until <YYYY-MM-DD HH:MM>`: put someone on call now
• `/incident stats [30d]`: incidents per severity, time to acknowledge and to resolve
• `/incident help`: this message"""
