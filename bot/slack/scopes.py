"""Which bot scopes each Web API method we call needs (any one of them suffices), per Slack's method pages.

Used by tests/unit/test_manifest.py to check manifest.yml covers every method the code calls.
"""

METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "auth.test": (),
    "apps.connections.open": (),  # app-level token with connections:write
    "chat.postMessage": ("chat:write",),
    "chat.update": ("chat:write",),
    "chat.postEphemeral": ("chat:write",),
    "chat.getPermalink": (),
    "conversations.create": ("channels:manage", "groups:write"),
    "conversations.join": ("channels:join",),
    "conversations.invite": ("channels:manage", "groups:write"),
    "conversations.setTopic": ("channels:manage", "groups:write"),
    "conversations.setPurpose": ("channels:manage", "groups:write"),
    "conversations.open": ("im:write",),
    "conversations.list": ("channels:read", "groups:read"),
    "conversations.info": ("channels:read", "groups:read"),
    "conversations.history": ("channels:history", "groups:history", "im:history"),
    "pins.add": ("pins:write",),
    "users.info": ("users:read",),
    "users.lookupByEmail": ("users:read.email",),
    "views.open": (),
    "views.publish": (),
    "files.getUploadURLExternal": ("files:write",),
    "files.completeUploadExternal": ("files:write",),
    "conversations.canvases.create": ("canvases:write",),
    "canvases.edit": ("canvases:write",),
}

# Methods reached through gateway conveniences or slack_sdk helpers rather than a literal `call("…")`.
IMPLIED_METHODS = {
    "post": ("chat.postMessage",), "update": ("chat.update",), "dm_channel": ("conversations.open",),
    "invite": ("conversations.invite",), "user_name": ("users.info",), "lookup_email": ("users.lookupByEmail",),
    "user_exists": ("users.info",), "permalink": ("chat.getPermalink",), "find_channel": ("conversations.list",),
    "auth": ("auth.test",), "upload_file": ("files.getUploadURLExternal", "files.completeUploadExternal"),
}

EVENT_SCOPES: dict[str, tuple[str, ...]] = {
    "pin_added": ("pins:read",),
    "pin_removed": ("pins:read",),
    "reaction_added": ("reactions:read",),
    "reaction_removed": ("reactions:read",),
    "app_home_opened": (),
}
