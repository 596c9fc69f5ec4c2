/* script.c - reading and stepping through a `--script` file (see script.h). */
#include "script.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int dm_script_load(dm_script *s, const char *path)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    int lineno = 0;

    memset(s, 0, sizeof *s);
    if (!f) {
        fprintf(stderr, "danmaku: cannot read script %s\n", path);
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        dm_script_cmd cmd = { 0 };
        char verb[32], arg[4000];
        int n;

        lineno++;
        line[strcspn(line, "\r\n")] = 0;
        if (line[strspn(line, " \t")] == '#' || line[strspn(line, " \t")] == 0)
            continue;
        n = sscanf(line, "%lf %31s %3999[^\n]", &cmd.at, verb, arg);
        if (n != 3 || cmd.at < 0) {
            fprintf(stderr, "danmaku: %s:%d: expected 'SECONDS key NAME', 'SECONDS screenshot FILE' or the like\n",
                    path, lineno);
            goto error;
        }
        if (!strcmp(verb, "key")) {
            cmd.kind = DM_SCRIPT_KEY;
            cmd.mod = KMOD_NONE;
            if (!strncasecmp(arg, "Shift+", 6) && arg[6]) {
                cmd.mod = KMOD_SHIFT;
                memmove(arg, arg + 6, strlen(arg + 6) + 1);
            }
            cmd.key = SDL_GetKeyFromName(arg);
            if (cmd.key == SDLK_UNKNOWN) {
                fprintf(stderr, "danmaku: %s:%d: unknown key '%s'\n", path, lineno, arg);
                goto error;
            }
        } else if (!strcmp(verb, "screenshot") || !strcmp(verb, "screenshot-window")) {
            cmd.kind = verb[10] ? DM_SCRIPT_SCREENSHOT_WINDOW : DM_SCRIPT_SCREENSHOT;
            cmd.path = strdup(arg);
            if (!cmd.path)
                goto error;
        } else if (!strcmp(verb, "mouse") || !strcmp(verb, "click")) {
            char extra;
            cmd.kind = verb[0] == 'm' ? DM_SCRIPT_MOUSE : DM_SCRIPT_CLICK;
            if (sscanf(arg, "%d %d %c", &cmd.x, &cmd.y, &extra) != 2 || cmd.x < 0 || cmd.y < 0) {
                fprintf(stderr, "danmaku: %s:%d: expected 'SECONDS %s X Y' (output pixels)\n", path, lineno, verb);
                goto error;
            }
        } else if (!strcmp(verb, "window-size")) {
            char extra;
            cmd.kind = DM_SCRIPT_WINDOW_SIZE;
            if (sscanf(arg, "%d %d %c", &cmd.x, &cmd.y, &extra) != 2 || cmd.x < 1 || cmd.y < 1 || cmd.x > 16384 ||
                cmd.y > 16384) {
                fprintf(stderr, "danmaku: %s:%d: expected 'SECONDS window-size W H' (pixels, 1 to 16384)\n", path,
                        lineno);
                goto error;
            }
        } else {
            fprintf(stderr, "danmaku: %s:%d: unknown command '%s' (key, screenshot, screenshot-window, mouse, "
                    "click or window-size)\n", path, lineno, verb);
            goto error;
        }
        {
            dm_script_cmd *c = realloc(s->cmds, (s->count + 1) * sizeof *c);
            if (!c) {
                free(cmd.path);
                goto error;
            }
            s->cmds = c;
            s->cmds[s->count++] = cmd;
        }
    }
    fclose(f);
    return 0;
error:
    fclose(f);
    dm_script_free(s);
    return -1;
}

void dm_script_free(dm_script *s)
{
    for (size_t i = 0; i < s->count; i++)
        free(s->cmds[i].path);
    free(s->cmds);
    memset(s, 0, sizeof *s);
}

const dm_script_cmd *dm_script_due(const dm_script *s, double t)
{
    if (s->next >= s->count || s->cmds[s->next].at > t + 1e-6)
        return NULL;
    return &s->cmds[s->next];
}

double dm_script_next_time(const dm_script *s)
{
    return s->next < s->count ? s->cmds[s->next].at : -1.0;
}
