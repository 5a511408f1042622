/* A run's GPU figures from one backend or both together, and gpu_seconds
 * integrated over readings. Pure. */
#ifndef AGENTPERF_GPUFIG_H
#define AGENTPERF_GPUFIG_H

#include <stdbool.h>
#include <stdint.h>

/* A run's figures from one backend, or several together. */
struct gpufig {
	bool have_percent;
	double percent; /* busiest device's (or engine's), 0-100 */
	bool have_vram;
	uint64_t vram_bytes;
	int procs; /* its processes seen on a device */
};

/* One run's figures from two backends: the busier percent, VRAM summed; a
 * figure either does not know is unknown. */
void gpufig_combine(const struct gpufig *a, const struct gpufig *b, struct gpufig *out);

/* gpu_seconds: the busy time of the run's busiest engine or device, summed
 * reading by reading as percent / 100 × the time since the previous one. */
struct gpufig_busy {
	bool primed; /* a reading came before */
	int64_t last_ns;
	bool have; /* some interval was known */
	double seconds;
};

/* A reading at now_ns; an unknown one (have_percent false) adds nothing. */
void gpufig_busy_add(struct gpufig_busy *b, int64_t now_ns, bool have_percent, double percent);

#endif
