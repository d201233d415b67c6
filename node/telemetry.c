/*
 * telemetry.c — what a board tells the hub about itself (telemetry.h):
 * load, memory, CPU frequency, temperature, read from /proc and /sys.
 * Invariant: a source that is missing or unreadable leaves its field 0
 * (JOB_TEMP_UNKNOWN for the temperature); nothing here fails.
 */
#include "telemetry.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static bool read_u64_file(const char *path, unsigned long long *v)
{
	FILE *f = fopen(path, "re");
	bool ok;
	if (!f)
		return false;
	ok = fscanf(f, "%llu", v) == 1;
	fclose(f);
	return ok;
}

void telemetry_read(struct job_telemetry *t)
{
	char line[256];
	FILE *f;
	DIR *d;
	unsigned long long v;
	double l1;

	memset(t, 0, sizeof *t);
	t->temp_mc = JOB_TEMP_UNKNOWN;
	f = fopen("/proc/loadavg", "re");
	if (f) {
		if (fscanf(f, "%lf", &l1) == 1 && l1 >= 0 && l1 < 4e6)
			t->load_milli = (uint32_t)(l1 * 1000);
		fclose(f);
	}
	f = fopen("/proc/meminfo", "re");
	if (f) {
		while (fgets(line, sizeof line, f)) {
			if (sscanf(line, "MemTotal: %llu", &v) == 1)
				t->mem_total_kb = v;
			else if (sscanf(line, "MemAvailable: %llu", &v) == 1)
				t->mem_avail_kb = v;
		}
		fclose(f);
	}
	if (read_u64_file("/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", &v))
		t->freq_cur_khz = (uint32_t)v;
	if (read_u64_file("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", &v))
		t->freq_max_khz = (uint32_t)v;
	d = opendir("/sys/class/thermal");
	if (d) {
		struct dirent *e;
		while ((e = readdir(d))) {
			char p[300];
			if (strncmp(e->d_name, "thermal_zone", 12))
				continue;
			snprintf(p, sizeof p, "/sys/class/thermal/%s/temp", e->d_name);
			long long tv;
			FILE *tf = fopen(p, "re");
			if (!tf)
				continue;
			if (fscanf(tf, "%lld", &tv) == 1 && tv > -300000 && tv < 1000000 &&
			    (t->temp_mc == JOB_TEMP_UNKNOWN || tv > t->temp_mc))
				t->temp_mc = (int32_t)tv;
			fclose(tf);
		}
		closedir(d);
	}
}
