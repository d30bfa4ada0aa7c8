#ifndef LVSH_CEDITLINE_SHIM_H
#define LVSH_CEDITLINE_SHIM_H

// libedit's native API. el_set and history() are C variadic functions, which Swift cannot call,
// so each use lvsh makes of them gets a fixed-signature wrapper here.
#include <stdio.h>
#include <histedit.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <signal.h>
#include <string.h>

typedef unsigned char (*lvsh_el_func)(EditLine *, int);
typedef char *(*lvsh_el_prompt)(EditLine *);

static inline int lvsh_el_set_prompt(EditLine *el, lvsh_el_prompt f) {
    // \1 brackets invisible prompt bytes (colours), should a prompt ever carry them.
    return el_set(el, EL_PROMPT_ESC, f, '\1');
}
static inline int lvsh_el_add_function(EditLine *el, const char *name, const char *help, lvsh_el_func f) {
    return el_set(el, EL_ADDFN, name, help, f);
}
static inline int lvsh_el_set_history(EditLine *el, History *h) { return el_set(el, EL_HIST, history, h); }
static inline int lvsh_el_set_editor(EditLine *el, const char *mode) { return el_set(el, EL_EDITOR, mode); }
static inline int lvsh_el_set_signal(EditLine *el, int on) { return el_set(el, EL_SIGNAL, on); }
// Redraws prompt and line from the current cursor position, which must be at the start of a row:
// for after printing help or completions below the line (CC_REDISPLAY would first clear the rows it
// believes the line occupies, erasing the end of that output when the line wraps).
static inline int lvsh_el_redraw(EditLine *el) { return el_set(el, EL_REFRESH); }
static inline int lvsh_el_set_clientdata(EditLine *el, void *data) { return el_set(el, EL_CLIENTDATA, data); }
static inline void *lvsh_el_get_clientdata(EditLine *el) {
    void *data = NULL;
    el_get(el, EL_CLIENTDATA, &data);
    return data;
}

static inline int lvsh_history_setsize(History *h, int n) { HistEvent ev; return history(h, &ev, H_SETSIZE, n); }
static inline int lvsh_history_setunique(History *h, int on) { HistEvent ev; return history(h, &ev, H_SETUNIQUE, on); }
static inline int lvsh_history_enter(History *h, const char *line) { HistEvent ev; return history(h, &ev, H_ENTER, line); }
static inline int lvsh_history_load(History *h, const char *path) { HistEvent ev; return history(h, &ev, H_LOAD, path); }
static inline int lvsh_history_save(History *h, const char *path) { HistEvent ev; return history(h, &ev, H_SAVE, path); }

// ioctl is variadic too: the terminal's width for listing completions in columns (0 when unknown).
static inline int lvsh_terminal_columns(int fd) {
    struct winsize ws;
    return ioctl(fd, TIOCGWINSZ, &ws) == 0 ? ws.ws_col : 0;
}

// The terminal's height, for the console's pager (0 when unknown).
static inline int lvsh_terminal_rows(int fd) {
    struct winsize ws;
    return ioctl(fd, TIOCGWINSZ, &ws) == 0 ? ws.ws_row : 0;
}

// el_init with the C library's standard streams: Swift 6 refuses to read the mutable globals stdin/stdout.
static inline EditLine *lvsh_el_init(const char *program) { return el_init(program, stdin, stdout, stderr); }

// While a command runs, Ctrl-C must not kill the console (a batch stopped half-way would skip its undo).
// A handler that does nothing, rather than SIG_IGN, because ignored signals are inherited by the
// programs a command starts (nft, iptables), and those should stop on Ctrl-C as usual.
static void lvsh_sigint_noop(int signo) { (void)signo; }
static inline int lvsh_catch_sigint(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = lvsh_sigint_noop;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    return sigaction(SIGINT, &sa, NULL);
}

#endif
