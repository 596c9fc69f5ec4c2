/*
 * console.c - the host console over its WebSocket (/host/ws): an audience
 * comment meeting the host's rules (moderation.h) and entering the
 * console's list (host.h), the console's commands (approve, delete, clear,
 * rules, bans...), and what every console is sent (the list, statuses,
 * settings, statistics). Service thread only.
 */
#include "server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

/* Send to every console; a console that does not read loses messages, never the feed. */
void dm_console_broadcast(dm_net *n, char *json)
{
    for (conn *h = n->hosts; json && h; h = h->next_host)
        if (!h->doomed && h->out_count < h->out_cap - 8)
            dm_conn_push(h, json, strlen(json));
    free(json);
}

/* The JSON is made only when a console is there to read it: at 10,000 comments a second it counts. */
static void entry_broadcast(dm_net *n, const dm_host_entry *e, int full)
{
    if (n->hosts)
        dm_console_broadcast(n, dm_host_entry_json(e, full));
}

static void send_state(dm_net *n, conn *only)
{
    char *js = dm_host_state_json(n->mod, dm_host_log_held(n->log), dm_host_log_waiting(n->log));

    if (only) {
        dm_conn_reply(only, js);
    } else {
        dm_console_broadcast(n, js);
        dm_net_bus_settings_changed(n);   /* every gateway of the screening applies them too */
    }
}

void dm_console_settings_changed(dm_net *n)
{
    send_state(n, NULL);
}

char *dm_console_stats_json(dm_net *n)
{
    cJSON *o = cJSON_CreateObject(), *rej;
    dm_mod_stats ms;
    dm_feed_view v;
    uint64_t mod_total = 0;
    char *s;

    if (!o)
        return NULL;
    dm_mod_get_stats(n->mod, &ms);
    dm_feed_get(n->feed, &v);
    dm_net_get_stats(n, &v.stats);   /* the feed's counters and the recording's */
    cJSON_AddStringToObject(o, "type", "stats");
    cJSON_AddNumberToObject(o, "film_ms", (double)v.film_ms);
    cJSON_AddNumberToObject(o, "audience", (double)n->open_conns);
    cJSON_AddNumberToObject(o, "per_minute", dm_host_rate_per_minute(&n->rate, dm_now()));
    cJSON_AddNumberToObject(o, "accepted", (double)v.stats.accepted);
    rej = cJSON_AddObjectToObject(o, "rejected");
    for (int r = 0; rej && r < DM_MOD_REASON_COUNT; r++) {
        cJSON_AddNumberToObject(rej, dm_mod_reason_code((dm_mod_reason)r), (double)ms.rejected[r]);
        mod_total += ms.rejected[r];
    }
    /* apart: comments the recording could not take */
    if (rej)
        cJSON_AddNumberToObject(rej, "not_recorded", (double)v.stats.record_refused);
    mod_total += v.stats.record_refused;
    /* and comments sent in a night's intermission */
    if (rej)
        cJSON_AddNumberToObject(rej, "intermission", (double)v.stats.intermission);
    mod_total += v.stats.intermission;
    /* the rest: the protocol's own refusals (rate_limited, too_long, ...) */
    if (rej)
        cJSON_AddNumberToObject(rej, "other",
                                v.stats.rejected > mod_total ? (double)(v.stats.rejected - mod_total) : 0.0);
    if (n->rec) {
        cJSON *rec = cJSON_AddObjectToObject(o, "recording");
        if (rec) {
            cJSON_AddBoolToObject(rec, "ok", v.stats.record_error == 0);
            if (v.stats.record_error)
                cJSON_AddStringToObject(rec, "error",
                                        v.stats.record_error == ENOSPC ? "disk full" : strerror(v.stats.record_error));
            cJSON_AddNumberToObject(rec, "refused", (double)v.stats.record_refused);
            cJSON_AddNumberToObject(rec, "lost_deletes", (double)v.stats.record_lost_deletes);
        }
    }
    cJSON_AddNumberToObject(o, "on_screen", (double)v.on_screen);
    cJSON_AddNumberToObject(o, "dropped", (double)v.dropped);
    cJSON_AddNumberToObject(o, "held", (double)dm_host_log_held(n->log));
    cJSON_AddNumberToObject(o, "waiting", (double)dm_host_log_waiting(n->log));
    s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* ------------------------------------------------------------ comments */

void dm_console_shown(dm_net *n, const dm_host_entry *e, int released)
{
    dm_host_entry *le;

    dm_host_rate_add(&n->rate, dm_now());
    if (!released) {
        dm_host_entry fresh = *e;
        fresh.status = DM_HOST_SHOWN;
        fresh.reason = -1;
        fresh.owner = NULL;
        fresh.in_flight = 0;
        le = dm_host_log_add(n->log, &fresh);
        if (le)
            entry_broadcast(n, le, 1);
        return;
    }
    le = dm_host_log_find(n->log, e->id);   /* gone if 1,000 newer comments pushed it out meanwhile */
    if (!le)
        return;
    le->in_flight = 0;
    le->t_ms = e->t_ms;
    dm_host_log_set_status(n->log, le, DM_HOST_SHOWN, -1);
    entry_broadcast(n, le, 0);
    dm_net_bus_decided(n, le);   /* the other gateways' consoles list it as shown too */
    send_state(n, NULL);   /* held/waiting counts changed */
}

void dm_console_refused(dm_net *n, const dm_host_entry *e, int released, dm_net_err why)
{
    dm_host_entry *le;

    if (!released) {
        dm_host_entry fresh = *e;
        fresh.status = DM_HOST_REJECTED;
        fresh.reason = (int)why;
        fresh.owner = NULL;
        fresh.in_flight = 0;
        if (!fresh.id[0])
            return;   /* refused before it had an id: nothing the console could act on */
        le = dm_host_log_add(n->log, &fresh);
        if (le)
            entry_broadcast(n, le, 1);
        return;
    }
    le = dm_host_log_find(n->log, e->id);
    if (!le)
        return;
    le->in_flight = 0;
    dm_host_log_set_status(n->log, le, DM_HOST_REJECTED, (int)why);
    entry_broadcast(n, le, 0);
    dm_net_bus_decided(n, le);
    send_state(n, NULL);
}

/* A held or waiting comment goes on screen: stamped now, recorded, queued, acked if its sender is still here. */
static void release_entry(dm_net *n, dm_host_entry *e)
{
    dm_accept_comment(n, e->owner, e, 1);
}

/* A host's decision on a comment held or waiting here (this console's, or another gateway's through the bus). */
static void decide(dm_net *n, dm_host_entry *e, int approve)
{
    if (!approve) {
        dm_mod_count_rejected(n->mod);
        if (e->owner)
            dm_conn_reply_says(n, e->owner, DM_NET_REJECTED, dm_mod_message(n->mod, DM_MOD_REJECTED));
        else
            dm_feed_count_rejected(n->feed);
        dm_host_log_set_status(n->log, e, DM_HOST_REJECTED, DM_NET_REJECTED);
        entry_broadcast(n, e, 0);
        dm_net_bus_decided(n, e);
    } else if (dm_mod_paused(n->mod)) {
        dm_host_log_set_status(n->log, e, DM_HOST_WAITING, -1);   /* approved, shown when the feed resumes */
        entry_broadcast(n, e, 0);
        dm_net_bus_decided(n, e);
    } else {
        release_entry(n, e);   /* shown (or refused) once recorded: dm_console_shown says so */
    }
    send_state(n, NULL);
}

void dm_console_bus_held(dm_net *n, const dm_host_entry *e)
{
    dm_host_entry *le;

    if (dm_host_log_find(n->log, e->id))
        return;
    le = dm_host_log_add(n->log, e);
    if (!le)
        return;
    entry_broadcast(n, le, 1);
    send_state(n, NULL);   /* the held count spans the gateways */
}

void dm_console_bus_decide(dm_net *n, const char *id, int approve)
{
    dm_host_entry *e = dm_host_log_find(n->log, id);

    if (e && !e->remote && (e->status == DM_HOST_HELD || e->status == DM_HOST_WAITING) && !e->in_flight)
        decide(n, e, approve);
}

void dm_console_bus_decided(dm_net *n, const char *id, dm_host_status status, int reason)
{
    dm_host_entry *e = dm_host_log_find(n->log, id);

    if (!e || !e->remote)
        return;
    e->in_flight = 0;
    dm_host_log_set_status(n->log, e, status, reason);
    entry_broadcast(n, e, 0);
    send_state(n, NULL);
}

void dm_console_set_feed_paused(dm_net *n, int paused)
{
    dm_mod_set_paused(n->mod, paused);
    atomic_store(&n->feed_paused, paused);
    if (!paused) {
        /* in arrival order, which is the list's; held ones stay for the host */
        for (size_t i = 0; i < dm_host_log_count(n->log) && dm_host_log_waiting(n->log); i++) {
            dm_host_entry *e = dm_host_log_at(n->log, i);
            if (e->status == DM_HOST_WAITING && !e->in_flight && !e->remote)   /* another gateway's: released there */
                release_entry(n, e);
        }
    }
    send_state(n, NULL);
}

static char *held_json(const char *id, int approval)
{
    cJSON *o = cJSON_CreateObject();
    char *js;

    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "type", "held");
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "reason", approval ? "approval" : "paused");
    js = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return js;
}

/*
 * A blocklist regex reached pcre2's limits on a comment (which then went
 * through that rule): tell the consoles, at most every LIMIT_NOTICE_S, so
 * the host can rewrite or remove it.
 */
static void limit_notice(dm_net *n, uint32_t rule_id)
{
    double now = dm_now();
    const dm_mod_rule *r = NULL;
    cJSON *o;
    char msg[160];

    if (!n->hosts || now - n->limit_notice_at < LIMIT_NOTICE_S)
        return;
    for (size_t i = 0; i < dm_mod_rule_count(n->mod) && !r; i++)
        if (dm_mod_rule_at(n->mod, i)->id == rule_id)
            r = dm_mod_rule_at(n->mod, i);
    if (!r || !(o = cJSON_CreateObject()))
        return;
    n->limit_notice_at = now;
    snprintf(msg, sizeof msg, "Rule %u takes too long on some comments, which it then lets through: rewrite or remove it.",
             (unsigned)rule_id);
    cJSON_AddStringToObject(o, "type", "rule_limit");
    cJSON_AddNumberToObject(o, "rule", rule_id);
    cJSON_AddStringToObject(o, "pattern", r->pattern);
    cJSON_AddNumberToObject(o, "limit_hits", (double)r->limit_hits);
    cJSON_AddStringToObject(o, "message", msg);
    dm_console_broadcast(n, cJSON_PrintUnformatted(o));
    cJSON_Delete(o);
    send_state(n, NULL);   /* the rule's limit_hits */
}

/* An audience comment that passed the protocol checks meets the host's rules. */
int dm_console_comment(dm_net *n, conn *c, dm_net_submission *s)
{
    dm_host_entry e = { .color = s->color, .mode = s->mode, .size = s->size, .reason = -1 };
    dm_mod_reason why = DM_MOD_BLOCKED;
    dm_mod_verdict v;
    dm_feed_view fv;
    dm_host_entry *le;

    snprintf(e.author, sizeof e.author, "%s", c->who);
    snprintf(e.address, sizeof e.address, "%08x", dm_net_fnv1a(n->salt, c->addr));
    e.text = s->text;
    v = dm_mod_check(n->mod, e.author, e.address, s->text, dm_now(), &why);
    if (dm_mod_limit_rule(n->mod))
        limit_notice(n, dm_mod_limit_rule(n->mod));
    if (v == DM_MOD_ACCEPT)
        return dm_accept_comment(n, c, &e, 0);
    dm_feed_get(n->feed, &fv);
    snprintf(e.id, sizeof e.id, "%llx-%llu", n->session, (unsigned long long)++n->seq);
    e.t_ms = fv.film_ms;
    if (v == DM_MOD_REJECT) {
        e.status = DM_HOST_REJECTED;
        e.reason = (int)dm_mod_reason_err(why);
        le = dm_host_log_add(n->log, &e);
        if (le)
            entry_broadcast(n, le, 1);
        if (why == DM_MOD_SLOW) {
            dm_feed_count_rejected(n->feed);
            return dm_conn_reply(c, dm_net_error_json_slow(dm_mod_message(n->mod, why), dm_mod_slow_mode(n->mod)));
        }
        return dm_conn_reply_says(n, c, dm_mod_reason_err(why), dm_mod_message(n->mod, why));
    }
    e.status = v == DM_MOD_HOLD ? DM_HOST_HELD : DM_HOST_WAITING;
    e.owner = c;
    le = dm_host_log_add(n->log, &e);
    if (!le)
        return dm_conn_reply_error(n, c, DM_NET_INTERNAL, 0);
    entry_broadcast(n, le, 1);
    if (le->status == DM_HOST_HELD)
        dm_net_bus_held(n, le);   /* every gateway's console may decide on it */
    send_state(n, NULL);
    return dm_conn_reply(c, held_json(e.id, v == DM_MOD_HOLD));
}

/* ------------------------------------------------------------ console */

static int host_delete(dm_net *n, dm_host_entry *e)
{
    const char *id = e->id;
    int bus = dm_net_bus_delete(n, e->id);   /* the screens take it from the stream, in its place */

    if (bus < 0 || (!bus && dm_feed_push_control(n->feed, DM_NET_DELETE, e->id)))
        return -1;
    if (!bus)
        dm_net_record_deletes(n, &id, 1);
    dm_ws_audience_broadcast(n, dm_simple_json("delete", "id", e->id));
    dm_host_log_set_status(n->log, e, DM_HOST_DELETED, -1);
    entry_broadcast(n, e, 0);
    return 0;
}

/* Close a console whose session ended (1008): what it was still to be sent is dropped. */
static void host_end(conn *h)
{
    dm_conn_clear(h);
    h->doomed = 1;
    h->close_reason = "session ended";
    lws_callback_on_writable(h->wsi);
}

void dm_console_end_forgotten(dm_net *n)
{
    for (conn *h = n->hosts; h; h = h->next_host)
        if (!h->doomed && h->sid[0] && !dm_host_auth_session_live(n->auth, h->sid))
            host_end(h);
}

static int console_error(conn *c, dm_net_err e, const char *message)
{
    return dm_conn_reply(c, dm_net_error_json_says(e, message));
}

static int preview(dm_net *n, conn *c, const dm_host_cmd *cmd)
{
    const char *hits[20];
    char err[256] = "";
    int count = dm_mod_preview(n->mod, cmd->is_regex, cmd->pattern, hits, 20, err, sizeof err);
    cJSON *o, *arr;
    int rc;

    if (count < 0)
        return console_error(c, DM_NET_BAD_RULE, err);
    o = cJSON_CreateObject();
    if (!o)
        return 0;
    cJSON_AddStringToObject(o, "type", "preview");
    cJSON_AddStringToObject(o, "kind", cmd->is_regex ? "regex" : "keyword");
    cJSON_AddStringToObject(o, "pattern", cmd->pattern);
    cJSON_AddNumberToObject(o, "count", count);
    arr = cJSON_AddArrayToObject(o, "matches");
    for (int i = 0; arr && i < count && i < 20; i++)
        cJSON_AddItemToArray(arr, cJSON_CreateString(hits[i]));
    rc = dm_conn_reply(c, cJSON_PrintUnformatted(o));
    cJSON_Delete(o);
    return rc;
}

/*
 * A film control: checked here (an entry of the programme), carried out by
 * the player through the control queue, in its place among the comments;
 * the programme the player publishes next shows its effect.
 */
static int film_control(dm_net *n, conn *c, const dm_host_cmd *cmd)
{
    static const dm_net_control_kind kinds[] = {
        [DM_HOST_FILM_PLAY] = DM_NET_FILM_PLAY, [DM_HOST_FILM_PAUSE] = DM_NET_FILM_PAUSE,
        [DM_HOST_FILM_SEEK] = DM_NET_FILM_SEEK, [DM_HOST_FILM_SEEK_BY] = DM_NET_FILM_SEEK_BY,
        [DM_HOST_FILM_NEXT] = DM_NET_FILM_NEXT, [DM_HOST_FILM_PREV] = DM_NET_FILM_PREV,
        [DM_HOST_FILM_JUMP] = DM_NET_FILM_JUMP, [DM_HOST_FILM_VOLUME] = DM_NET_FILM_VOLUME,
        [DM_HOST_BREAK_NOW] = DM_NET_BREAK_NOW, [DM_HOST_BREAK_ADD] = DM_NET_BREAK_ADD,
    };
    size_t count = dm_net_programme_count(n);
    int entry = 0, bus;

    if (cmd->kind == DM_HOST_FILM_JUMP) {
        /* a gateway knows no programme: each player checks the entry against its own */
        if (cmd->value >= (double)(count ? count : 1) && !(n->bus && !count))
            return console_error(c, DM_NET_BAD_VALUE, "No such entry in the programme.");
        entry = (int)cmd->value;
    }
    /* on the bus every player takes it from the stream, this one too */
    bus = dm_net_bus_film(n, kinds[cmd->kind], cmd->kind == DM_HOST_FILM_JUMP ? 0 : cmd->value, entry);
    if (bus)
        return bus < 0 ? console_error(c, DM_NET_UNAVAILABLE, NULL) : 0;
    if (dm_feed_push_film(n->feed, kinds[cmd->kind], cmd->kind == DM_HOST_FILM_JUMP ? 0 : cmd->value, entry))
        return console_error(c, DM_NET_BUSY, NULL);
    return 0;
}

/* One console message: settings change in dm_moderation, actions on the list and the screen. */
int dm_console_message(dm_net *n, conn *c, const char *buf, size_t len)
{
    dm_host_cmd cmd;
    char err[256] = "";
    dm_host_entry *e = NULL;
    dm_net_err pe;
    int rc = 0;

    if (c->sid[0] && !dm_host_auth_session_live(n->auth, c->sid)) {
        host_end(c);   /* its session ended since it connected: it may do nothing more */
        return 0;
    }
    if (c->rx_binary)
        return console_error(c, DM_NET_BINARY, NULL);
    pe = dm_host_parse(buf, len, &cmd);
    if (pe != DM_NET_OK)
        return console_error(c, pe, NULL);
    if (cmd.id[0]) {
        e = dm_host_log_find(n->log, cmd.id);
        if (!e) {
            free(cmd.pattern);
            return console_error(c, DM_NET_UNKNOWN_ID, NULL);
        }
    }
    switch (cmd.kind) {
    case DM_HOST_APPROVAL:
        dm_mod_set_approval(n->mod, cmd.on);
        send_state(n, NULL);
        break;
    case DM_HOST_APPROVE:
    case DM_HOST_REJECT:
        if ((e->status != DM_HOST_HELD && e->status != DM_HOST_WAITING) || e->in_flight) {
            rc = console_error(c, DM_NET_NOT_PENDING, NULL);
            break;
        }
        if (e->remote) {   /* held at another gateway: decided there, and the list says so when it is */
            if (dm_net_bus_decide(n, e->id, cmd.kind == DM_HOST_APPROVE) < 0)
                rc = console_error(c, DM_NET_UNAVAILABLE, NULL);
            else
                e->in_flight = 1;
            break;
        }
        decide(n, e, cmd.kind == DM_HOST_APPROVE);
        break;
    case DM_HOST_DELETE:
        if (e->status == DM_HOST_HELD || e->status == DM_HOST_WAITING)
            rc = console_error(c, DM_NET_NOT_SHOWN, "That comment is not on screen: reject it instead.");
        else if (e->status != DM_HOST_SHOWN)
            rc = console_error(c, DM_NET_NOT_SHOWN, NULL);
        else if (host_delete(n, e))
            rc = console_error(c, DM_NET_BUSY, NULL);
        break;
    case DM_HOST_BAN:
        if (dm_mod_ban(n->mod, cmd.who))
            rc = console_error(c, DM_NET_BAD_VALUE, "Cannot ban that author.");
        send_state(n, NULL);
        break;
    case DM_HOST_UNBAN:
        if (dm_mod_unban(n->mod, cmd.who))
            rc = console_error(c, DM_NET_BAD_VALUE, "That author is not banned.");
        send_state(n, NULL);
        break;
    case DM_HOST_SLOW_MODE:
        dm_mod_set_slow_mode(n->mod, cmd.value);
        send_state(n, NULL);
        break;
    case DM_HOST_RATE_CAP:
        dm_mod_set_rate_cap(n->mod, cmd.value);
        send_state(n, NULL);
        break;
    case DM_HOST_ADD_RULE:
        if (dm_mod_add_rule(n->mod, cmd.is_regex, cmd.pattern, err, sizeof err) < 0)
            rc = console_error(c, DM_NET_BAD_RULE, err);
        else
            send_state(n, NULL);
        break;
    case DM_HOST_REMOVE_RULE:
        if (dm_mod_remove_rule(n->mod, cmd.rule))
            rc = console_error(c, DM_NET_BAD_VALUE, "No such rule.");
        else
            send_state(n, NULL);
        break;
    case DM_HOST_PREVIEW:
        rc = preview(n, c, &cmd);
        break;
    case DM_HOST_PAUSE:
    case DM_HOST_RESUME:
        dm_console_set_feed_paused(n, cmd.kind == DM_HOST_PAUSE);
        break;
    case DM_HOST_CLEAR: {
        int bus = dm_net_bus_clear(n);   /* on the bus every screen takes it from the stream, this one too */
        if (bus < 0)
            rc = console_error(c, DM_NET_UNAVAILABLE, NULL);
        else if (!bus && dm_feed_push_control(n->feed, DM_NET_CLEAR, NULL))
            rc = console_error(c, DM_NET_BUSY, NULL);
        else
            dm_ws_audience_broadcast(n, dm_simple_json("clear", NULL, NULL));
        break;
    }
    case DM_HOST_PING:
        rc = dm_conn_reply(c, strdup("{\"type\":\"pong\"}"));
        break;
    case DM_HOST_STATS:
        rc = dm_conn_reply(c, dm_console_stats_json(n));
        break;
    case DM_HOST_FILM_PLAY:
    case DM_HOST_FILM_PAUSE:
    case DM_HOST_FILM_SEEK:
    case DM_HOST_FILM_SEEK_BY:
    case DM_HOST_FILM_NEXT:
    case DM_HOST_FILM_PREV:
    case DM_HOST_FILM_JUMP:
    case DM_HOST_FILM_VOLUME:
    case DM_HOST_BREAK_NOW:
    case DM_HOST_BREAK_ADD:
        rc = film_control(n, c, &cmd);
        break;
    }
    free(cmd.pattern);
    return rc;
}

/* A console connected: its settings, the whole list (its ring has room for it), the figures. */
void dm_console_hello(dm_net *n, conn *c)
{
    size_t count = dm_host_log_count(n->log);

    send_state(n, c);
    for (size_t i = 0; i < count; i++)
        dm_conn_reply(c, dm_host_entry_json(dm_host_log_at(n->log, i), 1));
    dm_conn_reply(c, dm_console_stats_json(n));
    {
        char *js = dm_net_programme_json(n);   /* a night: the programme and what is playing */
        if (js)
            dm_conn_reply(c, js);
    }
}

void dm_console_closed(dm_net *n, conn *c)
{
    for (conn **pp = &n->hosts; *pp; pp = &(*pp)->next_host)
        if (*pp == c) {
            *pp = c->next_host;
            break;
        }
}
