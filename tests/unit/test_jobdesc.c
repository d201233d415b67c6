/* test_jobdesc.c — the one job description and the one job outcome
 * (lib/job.h): names set whole or not at all; the caps every encoder
 * checks; one description carried by SUBMIT (hub/proto.c) and by JOB
 * (lib/job.c) arrives the same at both ends; the shared argv codec's total
 * cap holds for SUBMIT too; the executor's view of both (node/exec_job.c). */
#include "job.h"
#include "proto.h"
#include "../../node/exec_job.h"
#include "../lib/test.h"

#include <errno.h>
#include <string.h>

static const struct compiler_id gcc_id = { "gcc", "x86_64-linux-gnu", "12.2.0",
					   "0123456789abcdef0123456789abcdef", "/usr/bin/gcc" };
static char *args3[] = { "-O2", "-g", "-c", NULL };
static const uint8_t input[] = "int f(void) { return 1; }\n";

static void make_desc(struct job_desc *d)
{
	memset(d, 0, sizeof *d);
	d->args = args3;
	d->nargs = 3;
	d->input = input;
	d->input_len = sizeof input - 1;
	d->want_dwo = true;
	(void)job_desc_set_names(d, "src/f.c", "obj/f.o", "/home/u/proj");
}

static bool same_desc(const struct job_desc *a, const struct job_desc *b)
{
	if (a->nargs != b->nargs || a->want_dwo != b->want_dwo || a->input_len != b->input_len ||
	    strcmp(a->input_name, b->input_name) || strcmp(a->output_name, b->output_name) ||
	    strcmp(a->cwd, b->cwd) || memcmp(a->input, b->input, a->input_len))
		return false;
	for (int i = 0; i < a->nargs; i++)
		if (strcmp(a->args[i], b->args[i]))
			return false;
	return true;
}

/* A SUBMIT frame's payload with the description (the input appended). */
static int submit_frame(const struct proto_submit *s, struct buf *b)
{
	int rc = proto_encode_submit_head(b, s);
	if (rc == 0)
		buf_put(b, s->d.input, s->d.input_len);
	return rc == 0 && buf_ok(b) ? 0 : -1;
}

static void test_names(void)
{
	char lng[JOB_CWD_MAX + 8];
	struct job_desc d;

	memset(lng, 'a', sizeof lng - 1);
	lng[sizeof lng - 1] = 0;
	T_CASE("jobdesc_names_set") {
		make_desc(&d);
		T_CHECK(!strcmp(d.input_name, "src/f.c") && !strcmp(d.output_name, "obj/f.o") &&
			!strcmp(d.cwd, "/home/u/proj"), "names");
	}
	T_CASE("jobdesc_names_too_long_leave_it") {
		make_desc(&d);
		lng[0] = '/';
		T_CHECK(job_desc_set_names(&d, "a.c", "a.o", lng) == -ENAMETOOLONG, "cwd");
		lng[JOB_NAME_MAX] = 0;
		T_CHECK(job_desc_set_names(&d, lng, "a.o", "/w") == -ENAMETOOLONG, "input");
		T_CHECK(job_desc_set_names(&d, "a.c", lng, "/w") == -ENAMETOOLONG, "output");
		T_CHECK(!strcmp(d.input_name, "src/f.c") && !strcmp(d.cwd, "/home/u/proj"),
			"changed: %s %s", d.input_name, d.cwd);
		lng[JOB_NAME_MAX - 1] = 0;	/* 511 bytes + NUL: fits */
		T_CHECK(job_desc_set_names(&d, lng, "a.o", "/w") == 0 &&
			strlen(d.input_name) == JOB_NAME_MAX - 1, "the longest name");
	}
}

static void test_caps(void)
{
	static char big[JOB_MAX_ARG_LEN + 1];	/* JOB_MAX_ARG_LEN bytes: one too many */
	char *many[80];
	struct job_desc d;
	struct job_outcome o;

	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = 0;
	for (int i = 0; i < 80; i++)
		many[i] = big + 100;	/* 3996 bytes each: 80 of them pass 256 KiB */
	T_CASE("jobdesc_caps") {
		make_desc(&d);
		T_CHECK(job_desc_ok(&d), "a plain job refused");
		d.nargs = -1;
		T_CHECK(!job_desc_ok(&d), "negative nargs");
		make_desc(&d);
		d.args = (char *[]){ big, NULL };
		d.nargs = 1;
		T_CHECK(!job_desc_ok(&d), "an arg of JOB_MAX_ARG_LEN");
		d.args = many;
		d.nargs = 60;
		T_CHECK(job_desc_ok(&d), "60 x 3996 bytes refused");
		d.nargs = 80;
		T_CHECK(!job_desc_ok(&d), "80 x 3996 bytes (over JOB_MAX_ARGS_BYTES) accepted");
		make_desc(&d);
		d.input = NULL;
		T_CHECK(!job_desc_ok(&d), "input_len without input");
	}
	T_CASE("jobdesc_outcome_caps") {
		memset(&o, 0, sizeof o);
		T_CHECK(job_outcome_ok(&o), "empty refused");
		o.obj_len = JOB_MAX_OUTPUT + 1;
		T_CHECK(!job_outcome_ok(&o), "obj over the cap");
		o.obj_len = 0;
		o.err_len = JOB_MAX_TEXT + 1;
		T_CHECK(!job_outcome_ok(&o), "stderr over the cap");
	}
	T_CASE("jobdesc_submit_args_total_cap") {
		/* the argv codec is one: SUBMIT refuses what JOB would */
		struct proto_submit s = { .compiler = "/usr/bin/gcc" }, d2;
		struct buf b = BUF_INIT;
		make_desc(&s.d);
		s.d.args = many;
		s.d.nargs = 80;
		T_CHECK(proto_encode_submit_head(&b, &s) == -EINVAL, "encoded");
		buf_free(&b);
		/* hand-made: the same args past the encoder's check */
		proto_begin(&b, PROTO_SUBMIT);
		buf_str(&b, s.compiler);
		job_desc_put_args(&b, &s.d);
		buf_str(&b, "a.c"), buf_str(&b, "a.o"), buf_u8(&b, 0), buf_str(&b, "/w");
		buf_str(&b, "a.c"), buf_u64(&b, 0), buf_u32(&b, 0);
		T_CHECK(proto_end(&b) == 0, "frame");
		T_CHECK(proto_decode_submit(b.data + 4, b.len - 4, &d2) == -EPROTO, "decoded");
		buf_free(&b);
	}
}

static void test_one_desc(void)
{
	T_CASE("jobdesc_submit_then_job_same") {
		struct proto_submit s = { .compiler = "/usr/bin/gcc", .source = "src/f.c" }, ds;
		struct job_spec j, dj;
		struct buf b1 = BUF_INIT, b2 = BUF_INIT;
		make_desc(&s.d);
		T_CHECK(submit_frame(&s, &b1) == 0, "submit encode");
		T_CHECK(proto_decode_submit(b1.data + 4, b1.len - 4, &ds) == 0, "submit decode");
		T_CHECK(same_desc(&s.d, &ds.d), "SUBMIT changed the description");
		memset(&j, 0, sizeof j);
		j.job_id = 7;
		j.compiler = gcc_id;
		j.d = ds.d;	/* what hubd does: the description passed on whole */
		T_CHECK(job_encode_job(&b2, &j) == 0 && buf_ok(&b2), "job encode");
		T_CHECK(job_decode_job(b2.data, b2.len, &dj) == 0, "job decode");
		T_CHECK(same_desc(&s.d, &dj.d), "JOB changed the description");
		job_spec_free(&dj);
		proto_submit_free(&ds);
		buf_free(&b1);
		buf_free(&b2);
	}
	T_CASE("jobdesc_job_wants_absolute_cwd") {
		struct job_spec j = { .job_id = 1, .compiler = gcc_id };
		struct buf b = BUF_INIT;
		make_desc(&j.d);
		(void)job_desc_set_names(&j.d, "f.c", "f.o", "rel/dir");
		T_CHECK(job_encode_job(&b, &j) == -EINVAL, "relative cwd encoded");
		buf_free(&b);
	}
	T_CASE("jobdesc_result_then_answer_same") {
		struct job_result r = { .job_id = 9 }, dr;
		struct proto_answer a = { .outcome = 0 }, da;
		struct buf b1 = BUF_INIT, b2 = BUF_INIT;
		r.o.status = 1;
		r.o.err = (const uint8_t *)"f.c:1: warning";
		r.o.err_len = 14;
		r.o.obj = (const uint8_t *)"OBJ";
		r.o.obj_len = 3;
		r.o.wall_us = 1234;
		T_CHECK(job_encode_result(&b1, &r) == 0 && job_decode_result(b1.data, b1.len, &dr) == 0,
			"result");
		a.o = dr.o;	/* what hubd does: the outcome passed on whole */
		T_CHECK(proto_encode_answer(&b2, &a) == 0 &&
			proto_decode_answer(b2.data + 4, b2.len - 4, &da) == 0, "answer");
		T_CHECK(da.o.status == 1 && da.o.err_len == 14 && !memcmp(da.o.err, r.o.err, 14) &&
			da.o.obj_len == 3 && !memcmp(da.o.obj, "OBJ", 3) && da.o.wall_us == 1234 &&
			da.o.out_len == 0 && da.o.dwo_len == 0, "the outcome changed on the way");
		buf_free(&b1);
		buf_free(&b2);
	}
}

static void test_exec_view(void)
{
	T_CASE("jobdesc_exec_view") {
		struct job_desc d;
		struct exec_job ej = { .compiler = "/usr/bin/gcc" };
		struct exec_result er = { .status = 3, .wall_us = 5, .cpu_us = 4 };
		struct job_outcome o;
		make_desc(&d);
		exec_job_from_desc(&ej, &d);
		T_CHECK(ej.args == d.args && ej.nargs == 3 && ej.input_name == d.input_name &&
			ej.output_name == d.output_name && ej.hub_cwd == d.cwd &&
			ej.input == d.input && ej.input_len == d.input_len && ej.want_dwo,
			"job fields");
		T_CHECK(!strcmp(ej.compiler, "/usr/bin/gcc"), "compiler touched");
		buf_put(&er.obj, "OBJ", 3);
		buf_put(&er.err, "e", 1);
		snprintf(er.error, sizeof er.error, "note");
		exec_outcome(&er, &o);
		T_CHECK(o.status == 3 && o.obj == er.obj.data && o.obj_len == 3 &&
			o.err == er.err.data && o.err_len == 1 && o.out_len == 0 && o.dwo_len == 0 &&
			o.wall_us == 5 && o.cpu_us == 4 && !strcmp(o.error, "note"), "outcome fields");
		buf_free(&er.obj);
		buf_free(&er.err);
	}
}

int main(void)
{
	test_names();
	test_caps();
	test_one_desc();
	test_exec_view();
	return t_done();
}
