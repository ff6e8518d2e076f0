/*
 * strmap.c - open-addressing string map (strmap.h).
 */
#include "util/strmap.h"
#include "util/err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct slot {
	char *key;   /* NULL: empty; TOMB: deleted */
	void *val;
	uint64_t hash;
};

struct strmap {
	struct slot *slots;
	size_t cap;   /* a power of two */
	size_t used;  /* live entries */
	size_t tombs;
};

static char tomb_mark;
#define TOMB (&tomb_mark)

static uint64_t hash_of(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

int strmap_new(strmap_t **out)
{
	strmap_t *m = calloc(1, sizeof(*m));
	if (!m || !(m->slots = calloc(16, sizeof(*m->slots)))) {
		free(m);
		return LD_ENOMEM;
	}
	m->cap = 16;
	*out = m;
	return 0;
}

void strmap_free(strmap_t *m, void (*free_val)(void *val))
{
	if (!m)
		return;
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->slots[i].key || m->slots[i].key == TOMB)
			continue;
		if (free_val)
			free_val(m->slots[i].val);
		free(m->slots[i].key);
	}
	free(m->slots);
	free(m);
}

/* the slot holding key, or NULL */
static struct slot *find(const strmap_t *m, const char *key, uint64_t h)
{
	for (size_t i = h & (m->cap - 1), n = 0; n < m->cap; i = (i + 1) & (m->cap - 1), n++) {
		struct slot *s = &m->slots[i];
		if (!s->key)
			return NULL;
		if (s->key != TOMB && s->hash == h && !strcmp(s->key, key))
			return s;
	}
	return NULL;
}

static int grow(strmap_t *m)
{
	size_t cap = m->used * 4 > m->cap ? m->cap * 2 : m->cap; /* only tombstones: same size, cleaned */
	struct slot *slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return LD_ENOMEM;
	for (size_t i = 0; i < m->cap; i++) {
		struct slot *s = &m->slots[i];
		if (!s->key || s->key == TOMB)
			continue;
		size_t j = s->hash & (cap - 1);
		while (slots[j].key)
			j = (j + 1) & (cap - 1);
		slots[j] = *s;
	}
	free(m->slots);
	m->slots = slots;
	m->cap = cap;
	m->tombs = 0;
	return 0;
}

void *strmap_get(const strmap_t *m, const char *key)
{
	struct slot *s = find(m, key, hash_of(key));
	return s ? s->val : NULL;
}

int strmap_put(strmap_t *m, const char *key, void *val)
{
	uint64_t h = hash_of(key);
	struct slot *s = find(m, key, h);
	if (s) {
		s->val = val;
		return 0;
	}
	if ((m->used + m->tombs + 1) * 2 > m->cap && grow(m))
		return LD_ENOMEM;
	char *k = strdup(key);
	if (!k)
		return LD_ENOMEM;
	size_t i = h & (m->cap - 1);
	while (m->slots[i].key && m->slots[i].key != TOMB)
		i = (i + 1) & (m->cap - 1);
	if (m->slots[i].key == TOMB)
		m->tombs--;
	m->slots[i] = (struct slot){ k, val, h };
	m->used++;
	return 0;
}

void *strmap_del(strmap_t *m, const char *key)
{
	struct slot *s = find(m, key, hash_of(key));
	if (!s)
		return NULL;
	void *val = s->val;
	free(s->key);
	s->key = TOMB;
	s->val = NULL;
	m->used--;
	m->tombs++;
	return val;
}

size_t strmap_size(const strmap_t *m)
{
	return m->used;
}

void strmap_each(const strmap_t *m, void (*fn)(void *ud, const char *key, void *val), void *ud)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key && m->slots[i].key != TOMB)
			fn(ud, m->slots[i].key, m->slots[i].val);
}
