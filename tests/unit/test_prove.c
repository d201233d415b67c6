/* test_prove.c — hub/prove*.c and what they add to hub/pairs.c: the proof
 * store (a line per pair, saved and read back, a proof still running never
 * saved), the trust rule (a compiler anyone but root could swap is refused,
 * a file of proofs writable by others is not read), canary jobs only behind
 * user jobs, and why a job no board serves stays local, counted under that
 * reason (hub/reasons.c). */
#include "pairs.h"
#include "prove.h"
#include "reasons.h"
#include "../lib/cursor.h"
#include "../lib/test.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HUBFP "d7561e1376fd5c6c893525cfe8b23f1d"
#define BRDFP "91ae4a1f00112233445566778899aabb"
#define OTHFP "0123456789abcdef0123456789abcdef"

static struct compiler_id id(const char *version, const char *fp)
{
	struct compiler_id c;
	memset(&c, 0, sizeof c);
	strcpy(c.kind, "gcc");
	strcpy(c.triple, "aarch64-linux-gnu");
	snprintf(c.version, sizeof c.version, "%s", version);
	snprintf(c.fingerprint, sizeof c.fingerprint, "%s", fp);
	return c;
}

static void add(struct pairs *t, const char *hub, const char *board, uint8_t base, uint8_t ssp,
		uint8_t busy)
{
	struct pair_entry *e = &t->e[t->n++];
	memset(e, 0, sizeof *e);
	memcpy(e->p.hub_fp, hub, 33);
	memcpy(e->p.board_fp, board, 33);
	e->p.state[EQ_BASE] = base;
	e->p.state[EQ_STACK_PROTECTOR] = ssp;
	e->busy = busy;
	snprintf(e->ident, sizeof e->ident, "GCC: (Debian 12.2.0-14) 12.2.0");
	snprintf(e->note, sizeof e->note, "proving board1's gcc 12.2.0: 3/12 canaries");
}

static void store_cases(const char *dir)
{
	struct pairs t, back;
	char line[400], path[PATH_MAX], why[300];

	memset(&t, 0, sizeof t);
	add(&t, HUBFP, BRDFP, EQ_SAME, EQ_DIFFERS, PAIRS_IDLE);
	add(&t, HUBFP, OTHFP, EQ_UNPROVEN, EQ_UNPROVEN, PAIRS_PROVING);
	T_CASE("format_line") {
		int n = pairs_format(&t.e[0], line, sizeof line);
		T_CHECK(n > 0 && !strcmp(line, "pair " HUBFP " " BRDFP " base=same stack-protector=differs "
					 "ident=GCC: (Debian 12.2.0-14) 12.2.0"), "'%s'", line);
		T_CHECK(pairs_format(&t.e[0], line, 40) == -ENOSPC, "a short buffer is refused");
	}
	snprintf(path, sizeof path, "%s/pairs", dir);
	T_CASE("save_and_load") {
		T_CHECK(pairs_save(&t, path) == 0, "save");
		T_CHECK(pairs_load(&back, path) == 0, "load");
		T_CHECK(back.n == 1 && back.bad_lines == 0, "%zu pairs, %zu bad", back.n, back.bad_lines);
		T_CHECK(back.n == 1 && !strcmp(back.e[0].p.board_fp, BRDFP) &&
			back.e[0].p.state[EQ_BASE] == EQ_SAME &&
			back.e[0].p.state[EQ_STACK_PROTECTOR] == EQ_DIFFERS &&
			back.e[0].p.state[EQ_STACK_CLASH] == EQ_UNPROVEN &&
			!strcmp(back.e[0].ident, t.e[0].ident), "the verdicts, the ident");
		T_CHECK(pairs_find(&back, HUBFP, OTHFP) == NULL, "a proof still running is not saved");
	}
	T_CASE("proofs_file_trust") {
		T_CHECK(prove_file_trusted(path, getuid(), why, sizeof why), "ours, 0644: %s", why);
		chmod(path, 0664);
		T_CHECK(!prove_file_trusted(path, getuid(), why, sizeof why) && strstr(why, "writable"),
			"group-writable refused: %s", why);
		chmod(path, 0646);
		T_CHECK(!prove_file_trusted(path, getuid(), why, sizeof why), "world-writable refused");
		chmod(path, 0644);
		if (getuid() == 0 && chown(path, 4242, 4242) == 0)
			T_CHECK(!prove_file_trusted(path, 1000, why, sizeof why) && strstr(why, "owned"),
				"another user's file refused: %s", why);
		else if (getuid() != 0)
			T_CHECK(!prove_file_trusted(path, getuid() + 1, why, sizeof why),
				"a file not root's nor hubd's user's refused: %s", why);
	}
}

static void trust_cases(const char *dir)
{
	char cc[256], real[PATH_MAX], why[300], cmd[600];
	struct stat st;

	snprintf(cc, sizeof cc, "%s/gcc-12", dir);
	snprintf(cmd, sizeof cmd, "cp /bin/sh %s && chmod 0755 %s", cc, cc);
	T_CASE("user_writable_compiler_refused") {
		T_CHECK(system(cmd) == 0, "copy");
		/* dir is the user's own (mkdtemp under a sticky /tmp): anyone who
		 * can write there can swap it */
		T_CHECK(!prove_compiler_trusted(cc, real, sizeof real, why, sizeof why) &&
			strstr(why, "not a system compiler"), "refused: %s", why);
		chmod(cc, 0777);
		T_CHECK(!prove_compiler_trusted(cc, real, sizeof real, why, sizeof why), "0777 refused");
		T_CHECK(!prove_compiler_trusted("/nonexistent/gcc", real, sizeof real, why, sizeof why),
			"missing refused: %s", why);
	}
	T_CASE("system_compiler_trusted") {
		if (stat("/bin/sh", &st) < 0 || st.st_uid != 0 || stat("/usr/bin", &st) < 0 ||
		    st.st_uid != 0 || (st.st_mode & 022)) {
			t_skip("system_compiler_trusted", "/bin/sh is not root's here");
			break;
		}
		T_CHECK(prove_compiler_trusted("/bin/sh", real, sizeof real, why, sizeof why),
			"/bin/sh: %s", why);
		/* a link of the user's to it: what runs is the resolved file */
		snprintf(cc, sizeof cc, "%s/link", dir);
		T_CHECK(symlink("/bin/sh", cc) == 0, "symlink");
		T_CHECK(prove_compiler_trusted(cc, real, sizeof real, why, sizeof why) && real[0] == '/' &&
			!strstr(real, dir), "resolved to %s", real);
	}
}

static void pick_cases(void)
{
	struct prove_task t[4];

	memset(t, 0, sizeof t);
	T_CASE("canaries_behind_user_jobs") {
		T_CHECK(prove_pick(t, 4, 1) == -1, "a user job waits: no canary");
		T_CHECK(prove_pick(t, 4, 0) == 0, "none waits: the first");
		t[0].sent = true;
		t[1].done = true;
		T_CHECK(prove_pick(t, 4, 0) == 2, "sent and done ones skipped");
		t[2].sent = t[3].done = true;
		T_CHECK(prove_pick(t, 4, 0) == -1, "none left");
	}
}

static void reason_cases(void)
{
	struct pairs t;
	struct compiler_id want = id("12.2.0", HUBFP);
	struct compiler_id board[2] = { id("12.2.0", BRDFP), id("12.2.0", OTHFP) };
	unsigned ssp = EQ_MASK(EQ_BASE) | EQ_MASK(EQ_STACK_PROTECTOR), cls = 99;

	memset(&t, 0, sizeof t);
	T_CASE("why_no_board") {
		T_CHECK(pairs_no_kind(&t, board, 1, &want, ssp, &cls) == PN_UNPROVEN, "no proof");
		add(&t, HUBFP, BRDFP, EQ_SAME, EQ_DIFFERS, PAIRS_IDLE);
		T_CHECK(pairs_no_kind(&t, board, 1, &want, EQ_MASK(EQ_BASE), &cls) == PN_NONE, "base: served");
		T_CHECK(pairs_no_kind(&t, board, 1, &want, ssp, &cls) == PN_DIFFERS &&
			cls == EQ_STACK_PROTECTOR, "stack-protector differs (class %u)", cls);
		add(&t, HUBFP, OTHFP, EQ_UNPROVEN, EQ_UNPROVEN, PAIRS_PROVING);
		T_CHECK(pairs_no_kind(&t, board, 2, &want, ssp, &cls) == PN_PROVING, "proving wins");
		/* a class being proven leaves the proven ones serving */
		t.e[1].p.state[EQ_BASE] = EQ_SAME;
		T_CHECK(pairs_no_kind(&t, board + 1, 1, &want, EQ_MASK(EQ_BASE), &cls) == PN_NONE,
			"base served while stack-protector is proven");
		T_CHECK(pairs_no_kind(&t, board + 1, 1, &want, ssp, &cls) == PN_PROVING, "ssp: proving");
		t.e[1].p.state[EQ_BASE] = EQ_UNPROVEN;
		t.e[1].busy = PAIRS_REFUSED;
		T_CHECK(pairs_no_kind(&t, board + 1, 1, &want, ssp, &cls) == PN_REFUSED, "refused");
		T_CHECK(pairs_no_kind(&t, board, 2, &want, ssp, &cls) == PN_DIFFERS, "differs over refused");
		struct compiler_id v13 = id("13.1.0", HUBFP);
		T_CHECK(pairs_no_kind(&t, board, 2, &v13, ssp, &cls) == PN_NO_COMPILER, "other release");
	}
	T_CASE("counted_under_its_reason") {
		char note[200] = "";
		struct buf b = BUF_INIT;
		struct reasons_status st;
		reasons_hub_local("", true, true, "stack-protector code differs on every board", note,
				  sizeof note);
		reasons_hub_local("", true, true, NULL, note, sizeof note);
		reasons_hub_local("", true, true, "not proven yet (proving)", note, sizeof note);
		reasons_encode(&b);
		struct cursor c = cur_init(b.data, b.len);
		T_CHECK(reasons_decode(&c, &st) && st.total == 3 && st.n == 3, "3 reasons");
		for (size_t i = 0; i < st.n; i++)
			T_CHECK(st.r[i].n == 1 && (!strcmp(st.r[i].label, "stack-protector code differs on every board") ||
						   !strcmp(st.r[i].label, "no board offers the compiler") ||
						   !strcmp(st.r[i].label, "not proven yet (proving)")),
				"'%s' %llu", st.r[i].label, (unsigned long long)st.r[i].n);
		T_CHECK(strstr(note, "proving"), "the note says it: %s", note);
		buf_free(&b);
	}
}

int main(void)
{
	char dir[] = "/tmp/test_prove.XXXXXX";

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	store_cases(dir);
	trust_cases(dir);
	pick_cases();
	reason_cases();
	char cmd[64];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return t_done();
}
