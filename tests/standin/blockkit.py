"""Block Kit validation with Slack's published limits.

Slack refuses a message whose blocks break these rules with ``invalid_blocks`` and
a view with ``invalid_arguments``; in both cases ``response_metadata.messages``
carries lines like ``[ERROR] must be less than 3001 characters
[json-pointer:/blocks/0/text/text]``.  The limits below are from the Block Kit
reference (blocks, block elements, composition objects) and the modal view
reference.
"""

from __future__ import annotations

from typing import Any

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_MESSAGE_TEXT = 40000

# block elements that may sit in an input block
INPUT_ELEMENTS = {
    "plain_text_input",
    "static_select",
    "external_select",
    "users_select",
    "conversations_select",
    "channels_select",
    "multi_static_select",
    "multi_external_select",
    "multi_users_select",
    "multi_conversations_select",
    "multi_channels_select",
    "checkboxes",
    "radio_buttons",
    "datepicker",
    "timepicker",
    "datetimepicker",
    "number_input",
    "email_text_input",
    "url_text_input",
    "rich_text_input",
    "file_input",
}
# interactive elements allowed in an actions block
ACTION_ELEMENTS = {
    "button",
    "overflow",
    "static_select",
    "external_select",
    "users_select",
    "conversations_select",
    "channels_select",
    "multi_static_select",
    "multi_external_select",
    "multi_users_select",
    "multi_conversations_select",
    "multi_channels_select",
    "checkboxes",
    "radio_buttons",
    "datepicker",
    "timepicker",
    "datetimepicker",
    "rich_text_input",
    "workflow_button",
}
ACCESSORY_ELEMENTS = (ACTION_ELEMENTS | {"image"}) - {"rich_text_input"}
BLOCK_TYPES = {
    "section",
    "divider",
    "header",
    "context",
    "actions",
    "input",
    "image",
    "rich_text",
    "markdown",
    "video",
    "file",
    "table",
    "context_actions",
}


class _V:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def err(self, msg: str, ptr: str) -> None:
        self.errors.append(f"[ERROR] {msg} [json-pointer:{ptr}]")

    # ---- composition objects -------------------------------------------------
    def text(self, obj: Any, ptr: str, *, max_len: int, plain_only: bool = False, required: bool = True) -> None:
        if obj is None:
            if required:
                self.err("missing required field: text", ptr)
            return
        if not isinstance(obj, dict):
            self.err("expected a text object", ptr)
            return
        t = obj.get("type")
        if t not in ("plain_text", "mrkdwn"):
            self.err(f"must be one of [plain_text, mrkdwn], got {t!r}", ptr + "/type")
        elif plain_only and t != "plain_text":
            self.err("must be a plain_text object", ptr + "/type")
        s = obj.get("text")
        if not isinstance(s, str):
            self.err("missing required field: text", ptr + "/text")
            return
        if len(s) < 1:
            self.err("must be more than 0 characters", ptr + "/text")
        if len(s) > max_len:
            self.err(f"must be less than {max_len + 1} characters", ptr + "/text")

    def string(self, s: Any, ptr: str, *, max_len: int, required: bool = False, min_len: int = 0) -> None:
        if s is None:
            if required:
                self.err("missing required field", ptr)
            return
        if not isinstance(s, str):
            self.err("expected a string", ptr)
            return
        if len(s) > max_len:
            self.err(f"must be less than {max_len + 1} characters", ptr)
        if len(s) < min_len:
            self.err(f"must be at least {min_len} characters", ptr)

    def confirm(self, obj: Any, ptr: str) -> None:
        if obj is None:
            return
        if not isinstance(obj, dict):
            self.err("expected a confirm object", ptr)
            return
        self.text(obj.get("title"), ptr + "/title", max_len=100, plain_only=True)
        self.text(obj.get("text"), ptr + "/text", max_len=300)
        self.text(obj.get("confirm"), ptr + "/confirm", max_len=30, plain_only=True)
        self.text(obj.get("deny"), ptr + "/deny", max_len=30, plain_only=True)

    def option(self, obj: Any, ptr: str, *, plain_only: bool) -> None:
        if not isinstance(obj, dict):
            self.err("expected an option object", ptr)
            return
        self.text(obj.get("text"), ptr + "/text", max_len=75, plain_only=plain_only)
        self.string(obj.get("value"), ptr + "/value", max_len=150, required=True)
        if obj.get("description") is not None:
            self.text(obj.get("description"), ptr + "/description", max_len=75, plain_only=plain_only)

    def options(self, opts: Any, ptr: str, *, max_items: int, min_items: int = 1, plain_only: bool) -> None:
        if not isinstance(opts, list):
            self.err("must be an array", ptr)
            return
        if len(opts) > max_items:
            self.err(f"no more than {max_items} items allowed", ptr)
        if len(opts) < min_items:
            self.err(f"must provide at least {min_items} items", ptr)
        for i, o in enumerate(opts):
            self.option(o, f"{ptr}/{i}", plain_only=plain_only)

    # ---- elements ------------------------------------------------------------
    def element(self, el: Any, ptr: str, allowed: set[str], action_ids: set[str]) -> None:
        if not isinstance(el, dict):
            self.err("expected an element object", ptr)
            return
        t = el.get("type")
        if t not in allowed:
            self.err(f"unsupported type: {t}", ptr + "/type")
            return
        if t == "image":
            self.string(el.get("image_url"), ptr + "/image_url", max_len=3000, required=el.get("slack_file") is None)
            self.string(el.get("alt_text"), ptr + "/alt_text", max_len=2000, required=True)
            return
        aid = el.get("action_id")
        if aid is not None:
            self.string(aid, ptr + "/action_id", max_len=255)
            if isinstance(aid, str):
                if aid in action_ids:
                    self.err(f"duplicate action_id: {aid}", ptr + "/action_id")
                action_ids.add(aid)
        self.confirm(el.get("confirm"), ptr + "/confirm")
        if t == "button":
            self.text(el.get("text"), ptr + "/text", max_len=75, plain_only=True)
            self.string(el.get("value"), ptr + "/value", max_len=2000)
            self.string(el.get("url"), ptr + "/url", max_len=3000)
            style = el.get("style")
            if style is not None and style not in ("primary", "danger"):
                self.err("must be one of [primary, danger]", ptr + "/style")
            self.string(el.get("accessibility_label"), ptr + "/accessibility_label", max_len=75)
        elif t in ("static_select", "multi_static_select"):
            if el.get("placeholder") is not None:
                self.text(el.get("placeholder"), ptr + "/placeholder", max_len=150, plain_only=True)
            if "options" in el:
                self.options(el["options"], ptr + "/options", max_items=100, plain_only=True)
            elif "option_groups" in el:
                groups = el["option_groups"]
                if not isinstance(groups, list) or len(groups) > 100:
                    self.err("no more than 100 items allowed", ptr + "/option_groups")
                else:
                    for gi, g in enumerate(groups):
                        gp = f"{ptr}/option_groups/{gi}"
                        self.text((g or {}).get("label"), gp + "/label", max_len=75, plain_only=True)
                        self.options((g or {}).get("options"), gp + "/options", max_items=100, plain_only=True)
            else:
                self.err("must provide either options or option_groups", ptr)
            if el.get("initial_option") is not None:
                self.option(el["initial_option"], ptr + "/initial_option", plain_only=True)
        elif t in ("users_select", "conversations_select", "channels_select", "external_select",
                   "multi_users_select", "multi_conversations_select", "multi_channels_select",
                   "multi_external_select", "datepicker", "timepicker"):
            if el.get("placeholder") is not None:
                self.text(el.get("placeholder"), ptr + "/placeholder", max_len=150, plain_only=True)
        elif t == "overflow":
            self.options(el.get("options"), ptr + "/options", max_items=5, min_items=2, plain_only=True)
        elif t in ("checkboxes", "radio_buttons"):
            self.options(el.get("options"), ptr + "/options", max_items=10, plain_only=False)
        elif t in ("plain_text_input", "email_text_input", "url_text_input", "number_input"):
            if el.get("placeholder") is not None:
                self.text(el.get("placeholder"), ptr + "/placeholder", max_len=150, plain_only=True)
            if t == "plain_text_input":
                for k in ("min_length", "max_length"):
                    v = el.get(k)
                    if v is not None and (not isinstance(v, int) or v < 0 or v > 3000):
                        self.err("must be an integer between 0 and 3000", f"{ptr}/{k}")
                iv = el.get("initial_value")
                if iv is not None:
                    self.string(iv, ptr + "/initial_value", max_len=int(el.get("max_length") or 3000))

    # ---- blocks --------------------------------------------------------------
    def blocks(self, blocks: Any, ptr: str, *, max_blocks: int) -> None:
        if not isinstance(blocks, list):
            self.err("must be an array", ptr)
            return
        if len(blocks) > max_blocks:
            self.err(f"no more than {max_blocks} items allowed", ptr)
        block_ids: set[str] = set()
        for i, b in enumerate(blocks):
            self.block(b, f"{ptr}/{i}", block_ids)

    def block(self, b: Any, ptr: str, block_ids: set[str]) -> None:
        if not isinstance(b, dict):
            self.err("expected a block object", ptr)
            return
        t = b.get("type")
        if t not in BLOCK_TYPES:
            self.err(f"unsupported type: {t}", ptr + "/type")
            return
        bid = b.get("block_id")
        if bid is not None:
            self.string(bid, ptr + "/block_id", max_len=255)
            if isinstance(bid, str):
                if bid in block_ids:
                    self.err(f"duplicate block_id: {bid}", ptr + "/block_id")
                block_ids.add(bid)
        action_ids: set[str] = set()
        if t == "section":
            if b.get("text") is None and not b.get("fields"):
                self.err("must provide either text or fields", ptr)
            if b.get("text") is not None:
                self.text(b["text"], ptr + "/text", max_len=3000)
            if b.get("fields") is not None:
                fields = b["fields"]
                if not isinstance(fields, list):
                    self.err("must be an array", ptr + "/fields")
                else:
                    if len(fields) > 10:
                        self.err("no more than 10 items allowed", ptr + "/fields")
                    for fi, f in enumerate(fields):
                        self.text(f, f"{ptr}/fields/{fi}", max_len=2000)
            if b.get("accessory") is not None:
                self.element(b["accessory"], ptr + "/accessory", ACCESSORY_ELEMENTS, action_ids)
        elif t == "header":
            self.text(b.get("text"), ptr + "/text", max_len=150, plain_only=True)
        elif t == "context":
            els = b.get("elements")
            if not isinstance(els, list) or not els:
                self.err("must provide at least 1 items", ptr + "/elements")
                return
            if len(els) > 10:
                self.err("no more than 10 items allowed", ptr + "/elements")
            for ei, e in enumerate(els):
                ep = f"{ptr}/elements/{ei}"
                if isinstance(e, dict) and e.get("type") == "image":
                    self.element(e, ep, {"image"}, action_ids)
                else:
                    self.text(e, ep, max_len=3000)
        elif t == "actions":
            els = b.get("elements")
            if not isinstance(els, list) or not els:
                self.err("must provide at least 1 items", ptr + "/elements")
                return
            if len(els) > 25:
                self.err("no more than 25 items allowed", ptr + "/elements")
            for ei, e in enumerate(els):
                self.element(e, f"{ptr}/elements/{ei}", ACTION_ELEMENTS, action_ids)
        elif t == "input":
            self.text(b.get("label"), ptr + "/label", max_len=2000, plain_only=True)
            if b.get("hint") is not None:
                self.text(b.get("hint"), ptr + "/hint", max_len=2000, plain_only=True)
            if b.get("element") is None:
                self.err("missing required field: element", ptr + "/element")
            else:
                self.element(b["element"], ptr + "/element", INPUT_ELEMENTS, action_ids)
        elif t == "image":
            self.string(b.get("image_url"), ptr + "/image_url", max_len=3000, required=b.get("slack_file") is None)
            self.string(b.get("alt_text"), ptr + "/alt_text", max_len=2000, required=True)
            if b.get("title") is not None:
                self.text(b.get("title"), ptr + "/title", max_len=2000, plain_only=True)
        elif t == "markdown":
            self.string(b.get("text"), ptr + "/text", max_len=12000, required=True)


def validate_message_blocks(blocks: Any) -> list[str]:
    v = _V()
    v.blocks(blocks, "/blocks", max_blocks=MAX_MESSAGE_BLOCKS)
    return v.errors


def validate_view(view: Any) -> list[str]:
    """Modal / home view validation (views.open / views.update / views.push / response_action)."""
    v = _V()
    if not isinstance(view, dict):
        v.err("expected a view object", "/view")
        return v.errors
    vt = view.get("type")
    if vt not in ("modal", "home"):
        v.err("must be one of [modal, home]", "/view/type")
    if vt == "modal":
        v.text(view.get("title"), "/view/title", max_len=24, plain_only=True)
        if view.get("submit") is not None:
            v.text(view.get("submit"), "/view/submit", max_len=24, plain_only=True)
        if view.get("close") is not None:
            v.text(view.get("close"), "/view/close", max_len=24, plain_only=True)
        blocks = view.get("blocks") or []
        if any(isinstance(b, dict) and b.get("type") == "input" for b in blocks) and view.get("submit") is None:
            v.err("submit is required when the view contains an input block", "/view/submit")
    v.string(view.get("private_metadata"), "/view/private_metadata", max_len=3000)
    v.string(view.get("callback_id"), "/view/callback_id", max_len=255)
    v.string(view.get("external_id"), "/view/external_id", max_len=255)
    if "blocks" not in view:
        v.err("missing required field: blocks", "/view/blocks")
    else:
        v.blocks(view.get("blocks"), "/view/blocks", max_blocks=MAX_VIEW_BLOCKS)
    return v.errors


def iter_elements(blocks: list[dict] | None):
    """Yield (block, element) for every interactive element of a list of blocks."""
    for b in blocks or []:
        if not isinstance(b, dict):
            continue
        if b.get("type") == "actions":
            for e in b.get("elements") or []:
                yield b, e
        elif b.get("type") == "section" and isinstance(b.get("accessory"), dict):
            yield b, b["accessory"]
        elif b.get("type") == "input" and isinstance(b.get("element"), dict):
            yield b, b["element"]
