-- marksync: Dovecot 2.3 push_notification Lua driver that feeds the marksync bridge.
--
-- Runs inside every imap/lmtp/lda/doveadm process (as the mail user, e.g. vmail). For each
-- committed mailbox transaction it appends one line per event to the spool file named by the
-- plugin setting `marksync_spool`; the bridge in `marksync start` tails that file.
-- Line (tab-separated, fields percent-encoded for "%", tab, CR and LF):
--   v1 <user> <event> <mailbox> <uidvalidity> <uid> <flags> <origin>
-- event: flags-set, flags-clear (only with a system flag), new, expunge. origin: the master user
-- that made the change (plugin setting `marksync_origin = %{master_user}`), so the bridge can drop
-- its own writes.
-- The file is opened per transaction, so moving it aside (rotation) needs no signal: the next
-- transaction creates a new file. Lines of one transaction are written with one write(): see end_txn.

local function enc(value)
  return (tostring(value or ""):gsub("[%%\t\r\n]", function(c) return string.format("%%%02X", c:byte()) end))
end

local function flag_list(flags)
  if type(flags) ~= "table" then return "" end
  return table.concat(flags, " ")
end

local function add(ctx, kind, event, flags)
  local uid = event.uid or 0
  local validity = event.uid_validity or 0
  ctx.lines[#ctx.lines + 1] = table.concat({ "v1", enc(ctx.user), kind, enc(event.mailbox),
    string.format("%d", validity), string.format("%d", uid), enc(flags), enc(ctx.origin) }, "\t") .. "\n"
end

function dovecot_lua_notify_begin_txn(user)
  local origin = user:plugin_getenv("marksync_origin") or ""
  if origin == "yes" then origin = "" end -- an empty userdb/plugin value reads as "yes"
  return { user = user.username, origin = origin, spool = user:plugin_getenv("marksync_spool"), lines = {} }
end

-- Dovecot reports every flag change of a message as both a set and a clear event, one of them
-- without a system flag (keywords only, or nothing): such an event tells the bridge nothing, and
-- leaving it out halves the spool of a bulk change.
local function add_flags(ctx, kind, event)
  local flags = flag_list(event.flags)
  if flags ~= "" then add(ctx, kind, event, flags) end
end

function dovecot_lua_notify_event_flags_set(ctx, event) add_flags(ctx, "flags-set", event) end
function dovecot_lua_notify_event_flags_clear(ctx, event) add_flags(ctx, "flags-clear", event) end
function dovecot_lua_notify_event_message_new(ctx, event) add(ctx, "new", event, "") end
function dovecot_lua_notify_event_message_append(ctx, event) add(ctx, "new", event, "") end
function dovecot_lua_notify_event_message_expunge(ctx, event) add(ctx, "expunge", event, "") end

function dovecot_lua_notify_end_txn(ctx, success)
  if not success or #ctx.lines == 0 or ctx.spool == nil or ctx.spool == "" then return end
  local out = io.open(ctx.spool, "a")
  if out == nil then return end -- never block or fail the user's IMAP command
  -- Unbuffered, so the C library hands the whole text to one write(). Buffered, it writes a text
  -- longer than its buffer (4 KiB, ~50 lines) in two, and another process's append can land
  -- between them, cutting a line in half. One O_APPEND write() is never split by another.
  out:setvbuf("no")
  out:write(table.concat(ctx.lines))
  out:close()
end
