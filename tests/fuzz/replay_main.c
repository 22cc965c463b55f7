/*
 * tests/fuzz/replay_main.c - runs a libFuzzer target over saved inputs, without libFuzzer.
 *
 * Owns: the main() that `make test` links with each tests/fuzz/fuzz_<parser>.c (gcc,
 * ASan+UBSan): every file named on the command line, and every regular file in a named
 * directory and in its immediate subdirectories, goes through LLVMFuzzerTestOneInput() once,
 * in name order, in a buffer of exactly its size. The last line is "N inputs"; exit 0.
 * A crash, a sanitizer report, a leak or an abort() ends the process non-zero, naming the input.
 * Arguments starting with '-' (libFuzzer flags) are ignored.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* From the sanitizer runtime when it is linked in; NULL otherwise. */
extern void __sanitizer_set_death_callback(void (*cb)(void)) __attribute__((weak));
/* Overrides libubsan's empty weak hook, called after each report: UBSan dies through its own
 * copy of the runtime, which never sees the death callback set above. */
void __ubsan_on_report(void);
/* LeakSanitizer's on-demand check, so a leak is pinned on the input that caused it. */
extern int __lsan_do_recoverable_leak_check(void) __attribute__((weak));

#define REPLAY_MAX_DEPTH 1 /* a directory's subdirectories, not theirs */

static char current[4096];
static size_t n_inputs;

static void name_current(void)
{
    static const char what[] = "replay: failed on input ";
    if (!current[0])
        return;
    ssize_t w = write(STDERR_FILENO, what, sizeof what - 1);
    w = write(STDERR_FILENO, current, strlen(current));
    w = write(STDERR_FILENO, "\n", 1);
    (void)w;
}

void __ubsan_on_report(void)
{
    name_current();
}

static void on_abort(int sig)
{
    name_current();
    signal(sig, SIG_DFL);
    raise(sig);
}

static int fail(const char *path, const char *what)
{
    fprintf(stderr, "replay: %s: %s\n", path, what);
    return -1;
}

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || st.st_size < 0) {
        fclose(f);
        return fail(path, "cannot stat");
    }
    size_t size = (size_t)st.st_size;
    /* Exactly size bytes (malloc(0) is a live zero-size block under ASan), so an overread by
     * one is a report, as under libFuzzer. */
    uint8_t *data = malloc(size);
    size_t got = data ? fread(data, 1, size, f) : 0;
    fclose(f);
    if ((!data && size) || got != size) {
        free(data);
        return fail(path, "short read");
    }
    snprintf(current, sizeof current, "%s", path);
    LLVMFuzzerTestOneInput(data ? data : (const uint8_t *)"", size);
    free(data);
    if (__lsan_do_recoverable_leak_check && __lsan_do_recoverable_leak_check()) {
        (void)fail(path, "memory leaked while running this input");
        _exit(1); /* not exit(): the exit-time check would report the same leak again */
    }
    current[0] = '\0';
    n_inputs++;
    return 0;
}

static int run_path(const char *path, int depth);

static int run_dir(const char *path, int depth)
{
    struct dirent **names;
    int n = scandir(path, &names, NULL, alphasort);
    if (n < 0)
        return fail(path, strerror(errno));
    int rc = 0;
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        if (rc == 0 && name[0] != '.') {
            char child[4096];
            if ((size_t)snprintf(child, sizeof child, "%s/%s", path, name) >= sizeof child)
                rc = fail(path, "path too long");
            else
                rc = run_path(child, depth + 1);
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

static int run_path(const char *path, int depth)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return fail(path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return depth <= REPLAY_MAX_DEPTH ? run_dir(path, depth) : 0;
    if (!S_ISREG(st.st_mode))
        return 0;
    return run_file(path);
}

int main(int argc, char **argv)
{
    if (__sanitizer_set_death_callback)
        __sanitizer_set_death_callback(name_current);
    signal(SIGABRT, on_abort);
    int named = 0;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-')
            continue;
        named++;
        if (run_path(argv[i], 0) != 0)
            return 1;
    }
    if (!named) {
        fprintf(stderr, "usage: %s <corpus dir or file>...\n", argv[0]);
        return 2;
    }
    printf("%zu inputs\n", n_inputs);
    return 0;
}
