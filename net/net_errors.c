/*
 * net_errors.c - the error registry (net_errors.h): one code and one
 * sentence per refusal, whoever refuses (protocol checks, moderation,
 * recording, host console).
 */
#include "net_errors.h"

#include <stdio.h>

#include <cjson/cJSON.h>

static const struct {
    const char *code;
    const char *message;
} errors[DM_NET_ERR_COUNT] = {
    [DM_NET_OK] = { "ok", "Accepted." },
    [DM_NET_BAD_JSON] = { "bad_json", "The message is not a JSON object." },
    [DM_NET_BAD_MESSAGE] = { "bad_message", "A field is missing or has the wrong type." },
    [DM_NET_UNKNOWN_TYPE] = { "unknown_type", "Unknown message type." },
    [DM_NET_BAD_TEXT] = { "bad_text", "The text is missing or is not valid Unicode (NUL and lone surrogates are refused)." },
    [DM_NET_EMPTY_TEXT] = { "empty_text", "Nothing visible to show: write something." },
    [DM_NET_TOO_LONG] = { "too_long", "Too long: keep it shorter." },
    [DM_NET_BAD_COLOR] = { "bad_color", "Pick a colour from the palette." },
    [DM_NET_BAD_MODE] = { "bad_mode", "Mode must be scroll, top or bottom." },
    [DM_NET_BAD_SIZE] = { "bad_size", "Size must be small, normal or large." },
    [DM_NET_RATE_LIMITED] = { "rate_limited", "Too fast: wait a moment." },
    [DM_NET_BUSY] = { "busy", "Too busy right now: try again in a few seconds." },
    [DM_NET_TOO_MANY_CONNECTIONS] = { "too_many_connections", "Too many connections from your address." },
    [DM_NET_BINARY] = { "binary_not_supported", "Send text messages, not binary." },
    [DM_NET_INTERNAL] = { "internal", "Something went wrong on the screen's side: try again." },
    [DM_NET_BLOCKED] = { "blocked", "This comment contains something the host has blocked." },
    [DM_NET_BANNED] = { "banned", "The host has blocked your comments for this screening." },
    [DM_NET_SLOW_MODE] = { "slow_mode", "Slow mode: wait a little between comments." },
    [DM_NET_REJECTED] = { "rejected", "The host did not approve this comment." },
    [DM_NET_UNAVAILABLE] = { "unavailable", "The screening's comment service cannot be reached right now, so the comment is not shown: try again in a moment." },
    [DM_NET_NOT_RECORDED] = { "not_recorded", "The screening's recording cannot be written right now, so the comment is not shown: tell the host." },
    [DM_NET_UNKNOWN_ID] = { "unknown_id", "No such comment in the console's list." },
    [DM_NET_NOT_PENDING] = { "not_pending", "That comment is not waiting for a decision." },
    [DM_NET_NOT_SHOWN] = { "not_shown", "That comment is not on screen." },
    [DM_NET_BAD_RULE] = { "bad_rule", "That rule cannot be used." },
    [DM_NET_BAD_VALUE] = { "bad_value", "That value does not apply." },
    [DM_NET_INTERMISSION] = { "intermission", "Intermission: comments are open again when the next film starts." },
};

const char *dm_net_err_code(dm_net_err e)
{
    return (unsigned)e < DM_NET_ERR_COUNT ? errors[e].code : errors[DM_NET_INTERNAL].code;
}

const char *dm_net_err_message(dm_net_err e)
{
    return (unsigned)e < DM_NET_ERR_COUNT ? errors[e].message : errors[DM_NET_INTERNAL].message;
}

static char *error_json(dm_net_err e, const char *message, int retry_ms, double every_s)
{
    cJSON *o = cJSON_CreateObject();
    char *s;

    if (!o)
        return NULL;
    if (!cJSON_AddStringToObject(o, "type", "error") || !cJSON_AddStringToObject(o, "code", dm_net_err_code(e)) ||
        !cJSON_AddStringToObject(o, "message", message && message[0] ? message : dm_net_err_message(e)) ||
        (retry_ms > 0 && !cJSON_AddNumberToObject(o, "retry_ms", retry_ms)) ||
        (every_s > 0 && !cJSON_AddNumberToObject(o, "every_s", every_s))) {
        cJSON_Delete(o);
        return NULL;
    }
    s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

char *dm_net_error_json(dm_net_err e, int retry_ms)
{
    char msg[96];

    if (e == DM_NET_RATE_LIMITED && retry_ms > 0) {
        snprintf(msg, sizeof msg, "Too fast: wait %d s.", (retry_ms + 999) / 1000);
        return error_json(e, msg, retry_ms, 0);
    }
    return error_json(e, NULL, 0, 0);
}

char *dm_net_error_json_says(dm_net_err e, const char *message)
{
    return error_json(e, message, 0, 0);
}

char *dm_net_error_json_slow(const char *message, double every_s)
{
    return error_json(DM_NET_SLOW_MODE, message, 0, every_s);
}
