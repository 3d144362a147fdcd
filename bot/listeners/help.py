"""The `/incident help` text: one place that lists every sub-command (the README mirrors it).

Placeholders are written `&lt;sev&gt;`: Slack reads a raw `<…>` as markup, even inside backticks."""

HELP = """*Tocsin: incidents from Slack*
*Declare*
• `/incident` or `/incident declare`: open the form (title, severity, summary, private?)
• `/incident declare &lt;sev&gt; &lt;title…&gt;`: declare at once, e.g. `/incident declare sev2 Checkout latency spike`
*In an incident channel*
• `/incident ic @user` · `/incident sme @user`: give roles (also the card's *Take IC* / *Join as SME* buttons)
• `/incident status investigating|identified|monitoring|resolved`
• `/incident severity &lt;sev&gt;` · `/incident note &lt;text&gt;` · `/incident timeline`
• `/incident update &lt;text&gt;`: post a status update (also the card's *Post update* button)
• `/incident resolve [summary]`: with text resolves at once; without, opens the resolution form
• `/incident reopen` · `/incident impact &lt;text&gt;` · `/incident cause &lt;text&gt;`
• `/incident action &lt;text&gt; [@owner]` · `/incident actions`: follow-up action items
• `/incident page @user|&lt;schedule&gt;|&lt;team&gt;`: page someone by hand
• `/incident postmortem`: generate the postmortem into the channel canvas and a .md file
*Anywhere*
• `/incident list`: open incidents · `/incident oncall [schedule|team]`: who is on call
• `/incident override &lt;schedule&gt; @user &lt;duration&gt;|until &lt;YYYY-MM-DD HH:MM&gt;`: put someone on call now
• `/incident stats [30d]`: incidents per severity, time to acknowledge and to resolve
• `/incident help`: this message"""
