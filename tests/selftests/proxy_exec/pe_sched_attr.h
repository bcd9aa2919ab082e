/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sched_setattr()'s ABI (version 1, without the utilization clamps), for
 * the engine and the self-contained programs alike.  <linux/sched/types.h>
 * would give it, but bookworm's copy also defines struct sched_param,
 * which clashes with <sched.h>.
 */
#ifndef PE_SCHED_ATTR_H
#define PE_SCHED_ATTR_H

#include <stdint.h>

#ifndef SCHED_DEADLINE
#define SCHED_DEADLINE		6
#endif

struct pe_sched_attr {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;
	uint64_t sched_deadline;
	uint64_t sched_period;
};

#endif /* PE_SCHED_ATTR_H */
