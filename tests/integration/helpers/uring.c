/* uring OPS MIB: OPS reads of MIB MiB each from /dev/zero through io_uring with
 * IOSQE_ASYNC, so the copying is done by io-wq worker threads (iou-wrk-*) that
 * the kernel creates without sched_process_fork. Raw syscalls: no liburing. */
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct io_uring_params p;
	unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
	char *sq, *cq, *buf;
	size_t len;
	int ring, zero, ops;

	if (argc != 3 || (ops = atoi(argv[1])) < 1 || (len = (size_t)atol(argv[2]) << 20) == 0) {
		fprintf(stderr, "usage: uring OPS MIB\n");
		return 2;
	}
	memset(&p, 0, sizeof(p));
	ring = (int)syscall(__NR_io_uring_setup, 4, &p);
	zero = open("/dev/zero", O_RDONLY);
	buf = malloc(len);
	if (ring < 0 || zero < 0 || !buf) {
		perror("io_uring_setup");
		return 1;
	}
	sq = mmap(NULL, p.sq_off.array + p.sq_entries * sizeof(unsigned), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQ_RING);
	cq = mmap(NULL, p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe),
		  PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_CQ_RING);
	sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	sq_tail = (unsigned *)(sq + p.sq_off.tail);
	sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
	sq_array = (unsigned *)(sq + p.sq_off.array);
	cq_head = (unsigned *)(cq + p.cq_off.head);
	cq_tail = (unsigned *)(cq + p.cq_off.tail);
	cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
	cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);

	for (int i = 0; i < ops; i++) {
		unsigned tail = *sq_tail, idx = tail & *sq_mask;
		struct io_uring_sqe *sqe = &sqes[idx];

		memset(sqe, 0, sizeof(*sqe));
		sqe->opcode = IORING_OP_READ;
		sqe->fd = zero;
		sqe->addr = (unsigned long)buf;
		sqe->len = (unsigned)len;
		sqe->flags = IOSQE_ASYNC; /* punt to an io-wq worker */
		sq_array[idx] = idx;
		__atomic_store_n(sq_tail, tail + 1, __ATOMIC_RELEASE);
		if (syscall(__NR_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0) {
			perror("io_uring_enter");
			return 1;
		}
		unsigned head = *cq_head;

		if (head == __atomic_load_n(cq_tail, __ATOMIC_ACQUIRE)) {
			fprintf(stderr, "no completion\n");
			return 1;
		}
		if (cqes[head & *cq_mask].res < 0) {
			fprintf(stderr, "read: %s\n", strerror(-cqes[head & *cq_mask].res));
			return 1;
		}
		__atomic_store_n(cq_head, head + 1, __ATOMIC_RELEASE);
	}
	return 0;
}
