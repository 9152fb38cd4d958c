/*
 * A small pthread pool for parallel loops inside kernels.
 *
 * One job at a time: the caller publishes (fn, arg, ntasks) under a new generation number and
 * takes tasks itself alongside the workers. Tasks are claimed with a compare-and-swap on a
 * ticket word that holds (generation << 32 | next task), so a worker that wakes late and still
 * believes in an old generation can never claim a task of the new job with the old job's
 * function. Workers spin briefly between jobs (training calls kernels back to back), then sleep
 * on a condition variable so an idle process uses no CPU.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "fl.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FL_PAUSE() _mm_pause()
#else
#define FL_PAUSE() ((void)0)
#endif

/* ~50-100 µs of spinning before a worker sleeps */
#define SPIN_ROUNDS 2000

typedef struct job {
  fl_task_fn fn;
  void *arg;
  int ntasks;
} job;

struct fl_pool {
  int threads; /* including the caller */
  pthread_t tid[FL_MAX_THREADS];
  int started;
  job slots[2]; /* job of generation g lives in slots[g & 1] */
  uint32_t gen; /* caller-only copy of the current generation */
  _Atomic uint64_t ticket; /* (generation << 32) | next task index */
  _Atomic int done;        /* tasks finished in the current job */
  _Atomic int sleepers;
  _Atomic int stop;
  pthread_mutex_t mu;
  pthread_cond_t cv;
};

typedef struct worker_arg {
  fl_pool *pool;
  int id;
} worker_arg;

/* Claim and run tasks of generation g until none are left. */
static void drain(fl_pool *p, uint32_t g, const job *j, int me) {
  for (;;) {
    uint64_t v = atomic_load_explicit(&p->ticket, memory_order_acquire);
    if ((uint32_t)(v >> 32) != g || (int)(uint32_t)v >= j->ntasks) return;
    if (atomic_compare_exchange_weak_explicit(&p->ticket, &v, v + 1, memory_order_acq_rel,
                                              memory_order_relaxed)) {
      j->fn(j->arg, (int)(uint32_t)v, me);
      atomic_fetch_add_explicit(&p->done, 1, memory_order_release);
    }
  }
}

static void *worker_main(void *raw) {
  worker_arg wa = *(worker_arg *)raw;
  free(raw);
  fl_pool *p = wa.pool;
  uint32_t seen = 0;
  (void)fl_flush_denormals(); /* this thread only ever runs kernels */
  for (;;) {
    uint32_t g = (uint32_t)(atomic_load(&p->ticket) >> 32);
    int spins = 0;
    while (g == seen && !atomic_load(&p->stop)) {
      if (++spins < SPIN_ROUNDS) {
        FL_PAUSE();
      } else {
        pthread_mutex_lock(&p->mu);
        atomic_fetch_add(&p->sleepers, 1);
        while ((uint32_t)(atomic_load(&p->ticket) >> 32) == seen && !atomic_load(&p->stop)) {
          pthread_cond_wait(&p->cv, &p->mu);
        }
        atomic_fetch_sub(&p->sleepers, 1);
        pthread_mutex_unlock(&p->mu);
        spins = 0;
      }
      g = (uint32_t)(atomic_load(&p->ticket) >> 32);
    }
    if (atomic_load(&p->stop)) return NULL;
    /* The slot may be rewritten two generations later; drain() re-checks g before each claim,
     * so a stale copy of the job is never run. */
    job j = p->slots[g & 1];
    drain(p, g, &j, wa.id);
    seen = g;
  }
}

fl_pool *fl_pool_create(int threads) {
  if (threads < 1) threads = 1;
  if (threads > FL_MAX_THREADS) threads = FL_MAX_THREADS;
  fl_pool *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->threads = threads;
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv, NULL);
  atomic_init(&p->ticket, 0);
  atomic_init(&p->done, 0);
  atomic_init(&p->sleepers, 0);
  atomic_init(&p->stop, 0);
  for (int i = 1; i < threads; i++) {
    worker_arg *wa = malloc(sizeof *wa);
    if (!wa) break;
    wa->pool = p;
    wa->id = i;
    if (pthread_create(&p->tid[i], NULL, worker_main, wa) != 0) {
      free(wa);
      break;
    }
    p->started = i;
  }
  /* If some threads failed to start, run with what we have. */
  p->threads = p->started + 1;
  return p;
}

void fl_pool_destroy(fl_pool *p) {
  if (!p) return;
  pthread_mutex_lock(&p->mu);
  atomic_store(&p->stop, 1);
  pthread_cond_broadcast(&p->cv);
  pthread_mutex_unlock(&p->mu);
  for (int i = 1; i <= p->started; i++) pthread_join(p->tid[i], NULL);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->cv);
  free(p);
}

int fl_pool_threads(const fl_pool *p) { return p ? p->threads : 1; }

void fl_pool_run(fl_pool *p, int ntasks, fl_task_fn fn, void *arg) {
  if (ntasks <= 0) return;
  if (!p || p->threads == 1 || ntasks == 1) {
    for (int t = 0; t < ntasks; t++) fn(arg, t, 0);
    return;
  }
  uint32_t g = ++p->gen;
  if (g == 0) g = ++p->gen; /* generation 0 means "no job yet" to the workers */
  job *j = &p->slots[g & 1];
  j->fn = fn;
  j->arg = arg;
  j->ntasks = ntasks;
  atomic_store_explicit(&p->done, 0, memory_order_relaxed);
  atomic_store(&p->ticket, (uint64_t)g << 32); /* seq_cst: pairs with the sleepers check */
  if (atomic_load(&p->sleepers) > 0) {
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
  }
  job mine = *j;
  drain(p, g, &mine, 0);
  int spins = 0;
  while (atomic_load_explicit(&p->done, memory_order_acquire) < ntasks) {
    if (++spins < 1000000) FL_PAUSE();
    else sched_yield();
  }
}
