/*
 * logstore.c - the log store (logstore.h; the layout is in docs/logs.md).
 *
 *   DATA/logs/ACCOUNT:REGION/<group>/.group           {"name","creationTime","retentionInDays"}
 *   DATA/logs/ACCOUNT:REGION/<group>/<stream>/.stream {"name","creationTime","id"}
 *   DATA/logs/ACCOUNT:REGION/<group>/<stream>/.index  48 bytes per sealed segment
 *   DATA/logs/ACCOUNT:REGION/<group>/<stream>/NNNNNNNN.seg  records
 *
 * A record is a 24-byte header (u32 message length, u32 CRC-32 of the rest
 * of the header and the message, i64 timestamp, i64 ingestion time, host
 * order) and the message. A segment is sealed when it would pass the
 * segment size; its summary (id, bytes, count, min/max timestamp, newest
 * ingestion) then goes into .index, rewritten whole (write to a temporary
 * file, rename), so that opening reads summaries and scans only segments
 * the index does not describe at their current size (the active one).
 */
#include "logs/logstore.h"
#include "util/buf.h"
#include "util/disk.h"
#include "util/err.h"
#include "util/file.h"
#include "util/ids.h"
#include "util/strmap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HDR 24
#define INDEX_ENTRY 48
#define META_CAP 4096

struct seg {
	uint32_t id;
	uint64_t bytes, count;
	int64_t min_ts, max_ts, max_ingest;
};

struct ls_stream {
	char *name;
	char *dir;
	ls_group_t *g;
	int64_t created;
	uint32_t id;
	struct seg *segs; /* oldest first; the last one is the active one */
	size_t nsegs, cap;
	uint32_t next_seg;
	uint64_t lost_events, lost_bytes; /* refused for space since the last append that got in */
};

struct ls_group {
	char *name;
	char *scope;
	char *dir;
	int64_t created;
	int retention;
	strmap_t *streams;
};

struct logstore {
	char *root; /* DATA/logs */
	struct logstore_opts o;
	strmap_t *groups; /* "SCOPE\nNAME" -> group */
	uint64_t total;
	uint64_t dropped_segments, dropped_bytes;
	uint64_t notice_segments, notice_bytes; /* dropped since the last stderr line */
	int64_t notice_ms;
	uint64_t room_segments, room_bytes;     /* dropped for the disk's reserve, since the last line */
	int64_t room_ms;
	char room_last[LOGSTORE_NAME_MAX * 2 + 16]; /* the group and stream of the last of them */
	uint32_t crc[256];
};

/* ---- helpers ---- */

static void crc_init(uint32_t t[256])
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		t[i] = c;
	}
}

static uint32_t crc_update(const uint32_t t[256], uint32_t c, const void *p, size_t n)
{
	const unsigned char *b = p;
	c = ~c;
	while (n--)
		c = t[(c ^ *b++) & 0xff] ^ (c >> 8);
	return ~c;
}

/* CRC of a record: header bytes 8..23, then the message; the length first */
static uint32_t record_crc(const uint32_t t[256], const unsigned char *hdr, const void *msg, size_t len)
{
	uint32_t c = crc_update(t, 0, hdr, 4);
	c = crc_update(t, c, hdr + 8, 16);
	return crc_update(t, c, msg, len);
}

int64_t logstore_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void logstore_dirname(const char *name, char out[201])
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	uint64_t h = 1469598103934665603ull;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		int plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			    *p == '_' || *p == '-' || *p == '#' || (*p == '.' && p != (const unsigned char *)name);
		if (o + 3 > 150 && (p[1] || o + 3 > 200)) {
			o = (size_t)snprintf(out + o, 201 - o, "~%016llx", (unsigned long long)h) + o;
			return;
		}
		if (plain) {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
}

static char *path_join(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", a, b);
	return p;
}

/* writes text to DIR/NAME through a temporary file and a rename; a full
 * file system is reported (util/disk.h) and answered LD_ENOSPC */
static int write_atomic(logstore_t *ls, const char *dir, const char *name, const void *data, size_t len)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return disk_failed(ls->o.disk, errno, tmp, "logs");
	ssize_t w = write(fd, data, len);
	int err = w < 0 ? errno : ENOSPC; /* a short write: the file system is full */
	close(fd);
	if (w != (ssize_t)len) {
		unlink(tmp);
		return disk_failed(ls->o.disk, err, tmp, "logs");
	}
	if (rename(tmp, path) < 0) {
		unlink(tmp);
		return LD_EIO;
	}
	return 0;
}

static int write_json(logstore_t *ls, const char *dir, const char *name, json_t *doc)
{
	char *text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (!text)
		return LD_ENOMEM;
	int rc = write_atomic(ls, dir, name, text, strlen(text));
	free(text);
	return rc;
}

static json_t *read_json(const char *dir, const char *name)
{
	char path[PATH_MAX];
	void *data;
	size_t len;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (file_read(path, META_CAP, &data, &len))
		return NULL;
	json_t *doc = json_loadb(data, len, 0, NULL);
	free(data);
	if (doc && !json_is_object(doc)) {
		json_decref(doc);
		doc = NULL;
	}
	return doc;
}

static void seg_path(const ls_stream_t *s, uint32_t id, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%08x.seg", s->dir, id);
}

/* ---- records ---- */

/* walks the records of data[0, len): calls fn for each intact one (NULL
 * fn: count only); returns the length of the intact prefix. With crc NULL
 * only lengths are checked: readers walk segments that opening (or the
 * append that wrote them) already checked, and the CRC was most of a
 * read's time. */
static size_t walk(const uint32_t crc[256], const unsigned char *data, size_t len,
		   void (*fn)(void *ud, const struct logstore_event *ev, uint64_t off, uint64_t next), void *ud,
		   uint64_t *count)
{
	size_t off = 0;
	uint64_t n = 0;
	while (len - off >= HDR) {
		uint32_t mlen, c;
		struct logstore_event ev;
		memcpy(&mlen, data + off, 4);
		memcpy(&c, data + off + 4, 4);
		if (mlen > LOGSTORE_MAX_EVENT || len - off - HDR < mlen)
			break;
		if (crc && record_crc(crc, data + off, data + off + HDR, mlen) != c)
			break;
		memcpy(&ev.ts, data + off + 8, 8);
		memcpy(&ev.ingest, data + off + 16, 8);
		ev.msg = (const char *)data + off + HDR;
		ev.len = mlen;
		if (fn)
			fn(ud, &ev, off, off + HDR + mlen);
		off += HDR + mlen;
		n++;
	}
	if (count)
		*count = n;
	return off;
}

size_t logstore_valid_prefix(const void *data, size_t len, uint64_t *count)
{
	uint32_t t[256];
	crc_init(t);
	return walk(t, data, len, NULL, NULL, count);
}

static void summarize(void *ud, const struct logstore_event *ev, uint64_t off, uint64_t next)
{
	struct seg *sg = ud;
	if (!sg->count || ev->ts < sg->min_ts)
		sg->min_ts = ev->ts;
	if (!sg->count || ev->ts > sg->max_ts)
		sg->max_ts = ev->ts;
	if (ev->ingest > sg->max_ingest)
		sg->max_ingest = ev->ingest;
	sg->count++;
	sg->bytes = next;
}

/* maps a segment file (read-only); *len 0 and NULL for an empty or missing one */
static const unsigned char *map_file(const char *path, size_t *len)
{
	*len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat st;
	void *p = NULL;
	if (fstat(fd, &st) == 0 && st.st_size > 0) {
		p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED)
			p = NULL;
		else
			*len = (size_t)st.st_size;
	}
	close(fd);
	return p;
}

/* scans a segment file into sg; a torn tail is cut off unless readonly */
static int scan_segment(logstore_t *ls, ls_stream_t *s, struct seg *sg)
{
	char path[PATH_MAX];
	size_t len;
	seg_path(s, sg->id, path, sizeof(path));
	uint32_t id = sg->id;
	memset(sg, 0, sizeof(*sg));
	sg->id = id;
	const unsigned char *data = map_file(path, &len);
	if (!data)
		return 0;
	size_t good = walk(ls->crc, data, len, summarize, sg, NULL);
	munmap((void *)data, len);
	sg->bytes = good;
	if (good < len && !ls->o.readonly) {
		if (truncate(path, (off_t)good) < 0)
			return LD_EIO;
		fprintf(stderr, "lambdad: logs: cut a torn record (%zu bytes) off the end of %s\n", len - good, path);
	}
	return 0;
}

static int write_index(logstore_t *ls, ls_stream_t *s)
{
	if (ls->o.readonly)
		return 0;
	size_t n = s->nsegs ? s->nsegs - 1 : 0; /* sealed ones */
	unsigned char *b = calloc(n ? n : 1, INDEX_ENTRY);
	if (!b)
		return LD_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		unsigned char *e = b + i * INDEX_ENTRY;
		memcpy(e, &s->segs[i].id, 4);
		memcpy(e + 8, &s->segs[i].bytes, 8);
		memcpy(e + 16, &s->segs[i].count, 8);
		memcpy(e + 24, &s->segs[i].min_ts, 8);
		memcpy(e + 32, &s->segs[i].max_ts, 8);
		memcpy(e + 40, &s->segs[i].max_ingest, 8);
	}
	int rc = write_atomic(ls, s->dir, ".index", b, n * INDEX_ENTRY);
	free(b);
	return rc;
}

static int seg_cmp(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int seg_push(ls_stream_t *s, const struct seg *sg)
{
	if (s->nsegs == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4;
		struct seg *v = realloc(s->segs, cap * sizeof(*v));
		if (!v)
			return LD_ENOMEM;
		s->segs = v;
		s->cap = cap;
	}
	s->segs[s->nsegs++] = *sg;
	return 0;
}

/* ---- loading ---- */

static void stream_free(void *p)
{
	ls_stream_t *s = p;
	if (!s)
		return;
	free(s->name);
	free(s->dir);
	free(s->segs);
	free(s);
}

static void group_free(void *p)
{
	ls_group_t *g = p;
	if (!g)
		return;
	strmap_free(g->streams, stream_free);
	free(g->name);
	free(g->scope);
	free(g->dir);
	free(g);
}

static int load_stream(logstore_t *ls, ls_group_t *g, const char *dir)
{
	json_t *meta = read_json(dir, ".stream");
	const char *name = json_string_value(json_object_get(meta, "name"));
	int rc = 0;
	if (!name) {
		json_decref(meta);
		return 0; /* not a stream (or one whose creation was interrupted) */
	}
	ls_stream_t *s = calloc(1, sizeof(*s));
	if (!s || !(s->name = strdup(name)) || !(s->dir = strdup(dir))) {
		rc = LD_ENOMEM;
		goto out;
	}
	s->g = g;
	s->created = json_integer_value(json_object_get(meta, "creationTime"));
	s->id = (uint32_t)json_integer_value(json_object_get(meta, "id"));
	/* the summaries of sealed segments */
	struct seg *idx = NULL;
	size_t nidx = 0;
	void *data;
	size_t len;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/.index", dir);
	if (file_read(path, 64u * 1024 * 1024, &data, &len) == 0) {
		nidx = len / INDEX_ENTRY;
		idx = calloc(nidx ? nidx : 1, sizeof(*idx));
		for (size_t i = 0; idx && i < nidx; i++) {
			const unsigned char *e = (const unsigned char *)data + i * INDEX_ENTRY;
			memcpy(&idx[i].id, e, 4);
			memcpy(&idx[i].bytes, e + 8, 8);
			memcpy(&idx[i].count, e + 16, 8);
			memcpy(&idx[i].min_ts, e + 24, 8);
			memcpy(&idx[i].max_ts, e + 32, 8);
			memcpy(&idx[i].max_ingest, e + 40, 8);
		}
		free(data);
		if (!idx)
			nidx = 0;
	}
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		unsigned id;
		char tail[8];
		if (sscanf(de->d_name, "%8x.%3s", &id, tail) != 2 || strcmp(tail, "seg") || strlen(de->d_name) != 12)
			continue;
		struct seg sg = { .id = id };
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st) < 0)
			continue;
		for (size_t i = 0; i < nidx; i++)
			if (idx[i].id == id && idx[i].bytes == (uint64_t)st.st_size)
				sg = idx[i];
		if (sg.bytes != (uint64_t)st.st_size || (st.st_size && !sg.count))
			sg.bytes = UINT64_MAX; /* to be scanned */
		if ((rc = seg_push(s, &sg)))
			break;
	}
	if (d)
		closedir(d);
	free(idx);
	if (rc)
		goto out;
	if (s->nsegs)
		qsort(s->segs, s->nsegs, sizeof(*s->segs), seg_cmp);
	for (size_t i = 0; i < s->nsegs; i++) {
		if (s->segs[i].bytes == UINT64_MAX && (rc = scan_segment(ls, s, &s->segs[i])))
			goto out;
		ls->total += s->segs[i].bytes;
	}
	s->next_seg = s->nsegs ? s->segs[s->nsegs - 1].id + 1 : 1;
	rc = strmap_put(g->streams, s->name, s);
	if (!rc)
		s = NULL;
out:
	json_decref(meta);
	stream_free(s);
	return rc;
}

static int group_key(const char *scope, const char *name, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s\n%s", scope, name);
	return n < 0 || (size_t)n >= cap ? LD_ETOOBIG : 0;
}

static int load_group(logstore_t *ls, const char *scope, const char *dir)
{
	json_t *meta = read_json(dir, ".group");
	const char *name = json_string_value(json_object_get(meta, "name"));
	int rc = 0;
	char key[2304];
	if (!name || (ls->o.only_group && strcmp(name, ls->o.only_group))) {
		json_decref(meta);
		return 0;
	}
	ls_group_t *g = calloc(1, sizeof(*g));
	if (!g || !(g->name = strdup(name)) || !(g->scope = strdup(scope)) || !(g->dir = strdup(dir)) ||
	    strmap_new(&g->streams)) {
		rc = LD_ENOMEM;
		goto out;
	}
	g->created = json_integer_value(json_object_get(meta, "creationTime"));
	g->retention = (int)json_integer_value(json_object_get(meta, "retentionInDays"));
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d)) && !rc) {
		if (de->d_name[0] == '.')
			continue;
		char *sd = path_join(dir, de->d_name);
		rc = sd ? load_stream(ls, g, sd) : LD_ENOMEM;
		free(sd);
	}
	if (d)
		closedir(d);
	if (rc || (rc = group_key(scope, name, key, sizeof(key))) || (rc = strmap_put(ls->groups, key, g)))
		goto out;
	g = NULL;
out:
	json_decref(meta);
	group_free(g);
	return rc;
}

int logstore_open(const char *data_dir, const struct logstore_opts *o, logstore_t **out)
{
	int rc = 0;
	logstore_t *ls = calloc(1, sizeof(*ls));
	*out = NULL;
	if (!ls || !(ls->root = path_join(data_dir, "logs")) || strmap_new(&ls->groups)) {
		rc = LD_ENOMEM;
		goto fail;
	}
	if (o)
		ls->o = *o;
	if (!ls->o.max_bytes)
		ls->o.max_bytes = LOGSTORE_DEFAULT_MAX;
	if (!ls->o.segment_bytes)
		ls->o.segment_bytes = LOGSTORE_SEGMENT;
	if (ls->o.segment_bytes > ls->o.max_bytes / 16)
		ls->o.segment_bytes = (uint32_t)(ls->o.max_bytes / 16 > 4096 ? ls->o.max_bytes / 16 : 4096);
	crc_init(ls->crc);
	if (!ls->o.readonly && mkdir(ls->root, 0700) < 0 && errno != EEXIST) {
		rc = LD_EIO;
		goto fail;
	}
	DIR *top = opendir(ls->root);
	struct dirent *se;
	while (top && (se = readdir(top)) && !rc) {
		if (se->d_name[0] == '.' || !strchr(se->d_name, ':') ||
		    (ls->o.only_scope && strcmp(se->d_name, ls->o.only_scope)))
			continue;
		char *sdir = path_join(ls->root, se->d_name);
		DIR *d = sdir ? opendir(sdir) : NULL;
		struct dirent *ge;
		while (d && (ge = readdir(d)) && !rc) {
			if (ge->d_name[0] == '.')
				continue;
			char *gdir = path_join(sdir, ge->d_name);
			rc = gdir ? load_group(ls, se->d_name, gdir) : LD_ENOMEM;
			free(gdir);
		}
		if (d)
			closedir(d);
		free(sdir);
	}
	if (top)
		closedir(top);
	if (rc)
		goto fail;
	*out = ls;
	return 0;
fail:
	logstore_close(ls);
	return rc;
}

void logstore_close(logstore_t *ls)
{
	if (!ls)
		return;
	strmap_free(ls->groups, group_free);
	free(ls->root);
	free(ls);
}

/* ---- groups ---- */

ls_group_t *logstore_group(logstore_t *ls, const char *scope, const char *name)
{
	char key[2304];
	if (group_key(scope, name, key, sizeof(key)))
		return NULL;
	return strmap_get(ls->groups, key);
}

static json_t *group_meta(const ls_group_t *g)
{
	json_t *m = json_pack("{s:s,s:I}", "name", g->name, "creationTime", (json_int_t)g->created);
	if (m && g->retention)
		json_object_set_new(m, "retentionInDays", json_integer(g->retention));
	return m;
}

int logstore_group_create(logstore_t *ls, const char *scope, const char *name, ls_group_t **out)
{
	char key[2304], enc[201], sdir[PATH_MAX];
	int rc;
	if (ls->o.readonly)
		return LD_EINVAL;
	if ((rc = group_key(scope, name, key, sizeof(key))))
		return rc;
	if (strmap_get(ls->groups, key))
		return LD_EEXIST;
	logstore_dirname(name, enc);
	snprintf(sdir, sizeof(sdir), "%s/%s", ls->root, scope);
	if (mkdir(sdir, 0700) < 0 && errno != EEXIST)
		return LD_EIO;
	ls_group_t *g = calloc(1, sizeof(*g));
	if (!g || !(g->name = strdup(name)) || !(g->scope = strdup(scope)) || !(g->dir = path_join(sdir, enc)) ||
	    strmap_new(&g->streams)) {
		rc = LD_ENOMEM;
		goto out;
	}
	g->created = logstore_now_ms();
	file_rm_rf(g->dir); /* what a deletion interrupted left */
	if (mkdir(g->dir, 0700) < 0) {
		rc = LD_EIO;
		goto out;
	}
	if ((rc = write_json(ls, g->dir, ".group", group_meta(g))) || (rc = strmap_put(ls->groups, key, g)))
		goto out;
	*out = g;
	g = NULL;
out:
	if (g && g->dir)
		file_rm_rf(g->dir);
	group_free(g);
	return rc;
}

static void sum_stream_bytes(void *ud, const char *key, void *val)
{
	const ls_stream_t *s = val;
	for (size_t i = 0; i < s->nsegs; i++)
		*(uint64_t *)ud += s->segs[i].bytes;
}

int logstore_group_delete(logstore_t *ls, ls_group_t *g)
{
	char key[2304];
	uint64_t bytes = 0;
	strmap_each(g->streams, sum_stream_bytes, &bytes);
	/* the metadata first: a crash in between leaves a directory opening skips */
	char meta[PATH_MAX];
	snprintf(meta, sizeof(meta), "%s/.group", g->dir);
	if (unlink(meta) < 0 && errno != ENOENT)
		return LD_EIO;
	file_rm_rf(g->dir);
	ls->total -= bytes < ls->total ? bytes : ls->total;
	group_key(g->scope, g->name, key, sizeof(key));
	strmap_del(ls->groups, key);
	group_free(g);
	return 0;
}

int logstore_group_set_retention(logstore_t *ls, ls_group_t *g, int days)
{
	int old = g->retention;
	g->retention = days;
	int rc = write_json(ls, g->dir, ".group", group_meta(g));
	if (rc)
		g->retention = old;
	return rc;
}

struct collect {
	void **v;
	size_t n, cap;
	const char *scope, *prefix;
	int oom;
};

static void collect_one(struct collect *c, void *val)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		void **v = realloc(c->v, cap * sizeof(*v));
		if (!v) {
			c->oom = 1;
			return;
		}
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = val;
}

static void collect_group(void *ud, const char *key, void *val)
{
	struct collect *c = ud;
	const ls_group_t *g = val;
	if (strcmp(g->scope, c->scope) || (c->prefix && strncmp(g->name, c->prefix, strlen(c->prefix))))
		return;
	collect_one(c, val);
}

static int by_group_name(const void *a, const void *b)
{
	return strcmp((*(ls_group_t *const *)a)->name, (*(ls_group_t *const *)b)->name);
}

size_t logstore_groups(logstore_t *ls, const char *scope, const char *prefix, ls_group_t ***out)
{
	struct collect c = { .scope = scope, .prefix = prefix };
	strmap_each(ls->groups, collect_group, &c);
	if (c.oom) {
		free(c.v);
		*out = NULL;
		return 0;
	}
	if (c.n)
		qsort(c.v, c.n, sizeof(*c.v), by_group_name);
	*out = (ls_group_t **)c.v;
	return c.n;
}

void logstore_group_info(const ls_group_t *g, struct logstore_group_info *out)
{
	out->name = g->name;
	out->created = g->created;
	out->retention_days = g->retention;
	out->bytes = 0;
	strmap_each(g->streams, sum_stream_bytes, &out->bytes);
}

/* ---- streams ---- */

ls_stream_t *logstore_stream(ls_group_t *g, const char *name)
{
	return strmap_get(g->streams, name);
}

int logstore_stream_create(logstore_t *ls, ls_group_t *g, const char *name, ls_stream_t **out)
{
	char enc[201];
	int rc;
	if (ls->o.readonly)
		return LD_EINVAL;
	if (strmap_get(g->streams, name))
		return LD_EEXIST;
	logstore_dirname(name, enc);
	ls_stream_t *s = calloc(1, sizeof(*s));
	if (!s || !(s->name = strdup(name)) || !(s->dir = path_join(g->dir, enc))) {
		rc = LD_ENOMEM;
		goto out;
	}
	s->g = g;
	s->created = logstore_now_ms();
	s->next_seg = 1;
	if (ids_random(&s->id, sizeof(s->id))) {
		rc = LD_EIO;
		goto out;
	}
	file_rm_rf(s->dir);
	if (mkdir(s->dir, 0700) < 0) {
		rc = LD_EIO;
		goto out;
	}
	if ((rc = write_json(ls, s->dir, ".stream",
			     json_pack("{s:s,s:I,s:I}", "name", name, "creationTime", (json_int_t)s->created, "id",
				       (json_int_t)s->id))) ||
	    (rc = strmap_put(g->streams, s->name, s)))
		goto out;
	*out = s;
	s = NULL;
out:
	if (s && s->dir)
		file_rm_rf(s->dir);
	stream_free(s);
	return rc;
}

int logstore_stream_delete(logstore_t *ls, ls_stream_t *s)
{
	char meta[PATH_MAX];
	uint64_t bytes = 0;
	sum_stream_bytes(&bytes, NULL, s);
	snprintf(meta, sizeof(meta), "%s/.stream", s->dir);
	if (unlink(meta) < 0 && errno != ENOENT)
		return LD_EIO;
	file_rm_rf(s->dir);
	ls->total -= bytes < ls->total ? bytes : ls->total;
	strmap_del(s->g->streams, s->name);
	stream_free(s);
	return 0;
}

static void collect_stream(void *ud, const char *key, void *val)
{
	collect_one(ud, val);
}

static int by_stream_name(const void *a, const void *b)
{
	return strcmp((*(ls_stream_t *const *)a)->name, (*(ls_stream_t *const *)b)->name);
}

size_t logstore_streams(ls_group_t *g, ls_stream_t ***out)
{
	struct collect c = { 0 };
	strmap_each(g->streams, collect_stream, &c);
	if (c.oom) {
		free(c.v);
		*out = NULL;
		return 0;
	}
	if (c.n)
		qsort(c.v, c.n, sizeof(*c.v), by_stream_name);
	*out = (ls_stream_t **)c.v;
	return c.n;
}

void logstore_stream_info(const ls_stream_t *s, struct logstore_stream_info *out)
{
	memset(out, 0, sizeof(*out));
	out->name = s->name;
	out->created = s->created;
	out->id = s->id;
	out->end.seg = s->nsegs ? s->segs[s->nsegs - 1].id : s->next_seg;
	out->end.off = s->nsegs ? s->segs[s->nsegs - 1].bytes : 0;
	for (size_t i = 0; i < s->nsegs; i++) {
		const struct seg *sg = &s->segs[i];
		out->bytes += sg->bytes;
		if (!sg->count)
			continue;
		if (!out->events || sg->min_ts < out->first_ts)
			out->first_ts = sg->min_ts;
		if (!out->events || sg->max_ts > out->last_ts)
			out->last_ts = sg->max_ts;
		if (sg->max_ingest > out->last_ingest)
			out->last_ingest = sg->max_ingest;
		out->events += sg->count;
	}
}

/* ---- the cap ---- */

struct oldest {
	ls_stream_t *s;
	int64_t ingest;
};

static void find_oldest_stream(void *ud, const char *key, void *val)
{
	struct oldest *o = ud;
	ls_stream_t *s = val;
	if (s->nsegs && (!o->s || s->segs[0].max_ingest < o->ingest)) {
		o->s = s;
		o->ingest = s->segs[0].max_ingest;
	}
}

static void find_oldest_group(void *ud, const char *key, void *val)
{
	strmap_each(((ls_group_t *)val)->streams, find_oldest_stream, ud);
}

/* removes segment i of s */
static void drop_segment(logstore_t *ls, ls_stream_t *s, size_t i)
{
	char path[PATH_MAX];
	seg_path(s, s->segs[i].id, path, sizeof(path));
	unlink(path);
	ls->total -= s->segs[i].bytes < ls->total ? s->segs[i].bytes : ls->total;
	memmove(&s->segs[i], &s->segs[i + 1], (s->nsegs - i - 1) * sizeof(*s->segs));
	s->nsegs--;
}

/* drops the oldest segment of the store (names its group and stream in
 * last); 0 when there is none */
static int drop_oldest(logstore_t *ls, char *last, size_t cap, uint64_t *bytes)
{
	struct oldest o = { 0 };
	strmap_each(ls->groups, find_oldest_group, &o);
	if (!o.s)
		return 0;
	*bytes = o.s->segs[0].bytes;
	snprintf(last, cap, "%s, stream %s", o.s->g->name, o.s->name);
	drop_segment(ls, o.s, 0);
	write_index(ls, o.s);
	ls->dropped_segments++;
	ls->dropped_bytes += *bytes;
	return 1;
}

/* Keeps the data directory's reserve free (util/disk.h) before `need`
 * bytes are written to path: drops the oldest segments while the file
 * system has less than the reserve beyond need. 0, or LD_ENOSPC when no
 * segment is left to drop (reported by disk_room). */
static int make_room(logstore_t *ls, uint64_t need, const char *path)
{
	uint64_t b;
	int rc = 0;
	if (!ls->o.disk)
		return 0;
	int short_of_room;
	while ((short_of_room = disk_room(ls->o.disk, need, NULL, NULL) != 0) &&
	       drop_oldest(ls, ls->room_last, sizeof(ls->room_last), &b)) {
		ls->room_segments++;
		ls->room_bytes += b;
	}
	int64_t now = logstore_now_ms();
	if (ls->room_segments && now - ls->room_ms >= 1000) {
		fprintf(stderr,
			"lambdad: logs: the data directory's file system reached its reserve of free space (--disk-reserve): "
			"dropped the %llu oldest segments (%llu bytes of events), the last of group %s\n",
			(unsigned long long)ls->room_segments, (unsigned long long)ls->room_bytes, ls->room_last);
		ls->room_segments = ls->room_bytes = 0;
		ls->room_ms = now;
	}
	if (short_of_room) /* nothing left to drop: the output goes, said once per burst */
		rc = disk_room(ls->o.disk, need, path, "logs: output dropped");
	return rc;
}

static void enforce_cap(logstore_t *ls)
{
	char last[LOGSTORE_NAME_MAX * 2 + 16] = "";
	uint64_t b;
	while (ls->total > ls->o.max_bytes && drop_oldest(ls, last, sizeof(last), &b)) {
		ls->notice_segments++;
		ls->notice_bytes += b;
	}
	int64_t now = logstore_now_ms();
	if (ls->notice_segments && now - ls->notice_ms >= 1000) {
		fprintf(stderr,
			"lambdad: logs: the log store reached its cap of %llu bytes (--logs-max-bytes): dropped the %llu "
			"oldest segments (%llu bytes of events), the last of group %s\n",
			(unsigned long long)ls->o.max_bytes, (unsigned long long)ls->notice_segments,
			(unsigned long long)ls->notice_bytes, last[0] ? last : "(earlier)");
		ls->notice_segments = ls->notice_bytes = 0;
		ls->notice_ms = now;
	}
}

/* ---- appending ---- */

/* one record at b (HDR + ev->len bytes), summarized into add */
static void put_record(logstore_t *ls, unsigned char *b, const struct logstore_event *ev, int64_t now, struct seg *add)
{
	uint32_t len = (uint32_t)ev->len, c;
	int64_t ingest = ev->ingest ? ev->ingest : now;
	memcpy(b, &len, 4);
	memcpy(b + 8, &ev->ts, 8);
	memcpy(b + 16, &ingest, 8);
	if (len)
		memcpy(b + HDR, ev->msg, len);
	c = record_crc(ls->crc, b, b + HDR, len);
	memcpy(b + 4, &c, 4);
	struct logstore_event e = { ev->ts, ingest, NULL, len };
	summarize(add, &e, 0, 0);
}

int logstore_append(logstore_t *ls, ls_stream_t *s, const struct logstore_event *ev, size_t n)
{
	size_t total = 0, given = 0;
	int64_t now = logstore_now_ms();
	int rc = 0;
	char path[PATH_MAX], note[256];
	struct logstore_event lost = { now, 0, note, 0 };
	if (ls->o.readonly)
		return LD_EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (ev[i].len > LOGSTORE_MAX_EVENT)
			return LD_ETOOBIG;
		given += HDR + ev[i].len;
	}
	if (!n)
		return 0;
	/* events an earlier append could not store for space: said first */
	if (s->lost_events) {
		int k = snprintf(note, sizeof(note),
				 "lambdad: %llu events (%llu bytes) of this stream were dropped: the data directory's file "
				 "system was at its reserve of free space (--disk-reserve)\n",
				 (unsigned long long)s->lost_events, (unsigned long long)s->lost_bytes);
		lost.len = k > 0 ? (size_t)k : 0;
	}
	total = given + (lost.len ? HDR + lost.len : 0);
	seg_path(s, s->nsegs ? s->segs[s->nsegs - 1].id : s->next_seg, path, sizeof(path));
	if (make_room(ls, total, path)) {
		s->lost_events += n;
		s->lost_bytes += given - n * HDR;
		return LD_ENOSPC;
	}
	unsigned char *b = malloc(total);
	if (!b)
		return LD_ENOMEM;
	struct seg add = { 0 };
	size_t o = 0;
	if (lost.len) {
		put_record(ls, b, &lost, now, &add);
		o += HDR + lost.len;
	}
	for (size_t i = 0; i < n; i++) {
		put_record(ls, b + o, &ev[i], now, &add);
		o += HDR + ev[i].len;
	}
	/* seal the active segment when this batch would take it past the size */
	struct seg *act = s->nsegs ? &s->segs[s->nsegs - 1] : NULL;
	if (!act || (act->bytes && act->bytes + total > ls->o.segment_bytes)) {
		struct seg fresh = { .id = s->next_seg++ };
		if ((rc = seg_push(s, &fresh)))
			goto out;
		if (s->nsegs > 1 && (rc = write_index(ls, s)))
			goto out;
		act = &s->segs[s->nsegs - 1];
	}
	seg_path(s, act->id, path, sizeof(path));
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = disk_failed(ls->o.disk, errno, path, "logs: output dropped");
		goto out;
	}
	size_t done = 0;
	int err = ENOSPC; /* a write of 0 bytes: the file system is full */
	while (done < total) {
		ssize_t w = write(fd, b + done, total - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w < 0)
				err = errno;
			break;
		}
		done += (size_t)w;
	}
	if (done < total) {
		/* a partial record would hide everything after it: take it back */
		if (ftruncate(fd, (off_t)act->bytes) < 0)
			fprintf(stderr, "lambdad: logs: cannot cut a partial write off %s\n", path);
		close(fd);
		rc = disk_failed(ls->o.disk, err, path, "logs: output dropped");
		goto out;
	}
	close(fd);
	s->lost_events = s->lost_bytes = 0;
	if (!act->count || add.min_ts < act->min_ts)
		act->min_ts = add.min_ts;
	if (!act->count || add.max_ts > act->max_ts)
		act->max_ts = add.max_ts;
	if (add.max_ingest > act->max_ingest)
		act->max_ingest = add.max_ingest;
	act->count += add.count;
	act->bytes += total;
	ls->total += total;
	enforce_cap(ls);
out:
	if (rc == LD_ENOSPC) {
		s->lost_events += n;
		s->lost_bytes += given - n * HDR;
	}
	free(b);
	return rc;
}

/* ---- reading ---- */

struct logstore_cursor {
	logstore_t *ls;
	ls_stream_t *s;
	int64_t start, end;
	uint32_t seg;            /* the segment mapped (id) */
	const unsigned char *map;
	size_t len, off;
	struct logstore_pos from;
	int done;
};

static int in_window(const struct seg *sg, int64_t start, int64_t end)
{
	return sg->count && sg->max_ts >= start && (end < 0 || sg->min_ts <= end);
}

int logstore_cursor_open(logstore_t *ls, ls_stream_t *s, struct logstore_pos from, int64_t start, int64_t end,
			 logstore_cursor_t **out)
{
	logstore_cursor_t *c = calloc(1, sizeof(*c));
	if (!c)
		return LD_ENOMEM;
	c->ls = ls;
	c->s = s;
	c->start = start;
	c->end = end;
	c->from = from;
	c->seg = 0;
	*out = c;
	return 0;
}

static void cursor_unmap(logstore_cursor_t *c)
{
	if (c->map)
		munmap((void *)c->map, c->len);
	c->map = NULL;
	c->len = 0;
}

/* maps the next segment in the window after c->seg (or from's); 0 when none */
static int cursor_advance(logstore_cursor_t *c)
{
	cursor_unmap(c);
	for (size_t i = 0; i < c->s->nsegs; i++) {
		const struct seg *sg = &c->s->segs[i];
		uint32_t min = c->seg ? c->seg + 1 : c->from.seg;
		if (sg->id < min || !in_window(sg, c->start, c->end))
			continue;
		char path[PATH_MAX];
		seg_path(c->s, sg->id, path, sizeof(path));
		c->seg = sg->id;
		c->map = map_file(path, &c->len);
		if (c->len > sg->bytes)
			c->len = sg->bytes; /* what the summaries describe */
		c->off = sg->id == c->from.seg ? (size_t)(c->from.off < c->len ? c->from.off : c->len) : 0;
		if (c->map)
			return 1;
	}
	c->done = 1;
	return 0;
}

int logstore_cursor_next(logstore_cursor_t *c, struct logstore_event *ev, struct logstore_pos *at,
			 struct logstore_pos *next)
{
	if (c->from.seg == UINT32_MAX)
		c->done = 1;
	for (;;) {
		if (c->done)
			return 0;
		if (!c->map || c->len - c->off < HDR) {
			if (!cursor_advance(c))
				return 0;
			continue;
		}
		uint32_t mlen;
		memcpy(&mlen, c->map + c->off, 4);
		if (mlen > LOGSTORE_MAX_EVENT || c->len - c->off - HDR < mlen) {
			c->off = c->len; /* damaged: the rest of this segment is unreadable */
			continue;
		}
		size_t off = c->off;
		c->off += HDR + mlen;
		memcpy(&ev->ts, c->map + off + 8, 8);
		if (ev->ts < c->start || (c->end >= 0 && ev->ts > c->end))
			continue;
		memcpy(&ev->ingest, c->map + off + 16, 8);
		ev->msg = (const char *)c->map + off + HDR;
		ev->len = mlen;
		if (at)
			*at = (struct logstore_pos){ c->seg, off };
		if (next)
			*next = (struct logstore_pos){ c->seg, c->off };
		return 1;
	}
}

void logstore_cursor_close(logstore_cursor_t *c)
{
	if (!c)
		return;
	cursor_unmap(c);
	free(c);
}

struct back {
	struct logstore_pos *v; /* ring of the last `max` positions of the segment */
	size_t *lens;           /* and their messages' lengths */
	size_t max, n, head;
	uint64_t limit;
	int64_t start, end;
	uint32_t seg;
};

static void back_one(void *ud, const struct logstore_event *ev, uint64_t off, uint64_t next)
{
	struct back *b = ud;
	if (off >= b->limit || ev->ts < b->start || (b->end >= 0 && ev->ts > b->end))
		return;
	b->v[(b->head + b->n) % b->max] = (struct logstore_pos){ b->seg, off };
	b->lens[(b->head + b->n) % b->max] = ev->len;
	if (b->n < b->max)
		b->n++;
	else
		b->head = (b->head + 1) % b->max;
}

int logstore_read_back(logstore_t *ls, ls_stream_t *s, struct logstore_pos before, int64_t start, int64_t end,
		       size_t max, size_t max_bytes, size_t overhead,
		       void (*fn)(void *ud, const struct logstore_event *ev, struct logstore_pos at, struct logstore_pos next),
		       void *ud, struct logstore_pos *first)
{
	/* positions found, newest first */
	struct logstore_pos *found = calloc(max ? max : 1, sizeof(*found));
	struct back b = { .v = calloc(max ? max : 1, sizeof(struct logstore_pos)),
			  .lens = calloc(max ? max : 1, sizeof(size_t)), .max = max ? max : 1 };
	size_t nfound = 0, bytes = 0;
	int rc = 0, full = 0;
	*first = before;
	if (!found || !b.v || !b.lens) {
		rc = LD_ENOMEM;
		goto out;
	}
	for (size_t k = s->nsegs; k-- > 0 && nfound < max && !full;) {
		const struct seg *sg = &s->segs[k];
		if (sg->id > before.seg || !in_window(sg, start, end))
			continue;
		char path[PATH_MAX];
		size_t len;
		seg_path(s, sg->id, path, sizeof(path));
		const unsigned char *map = map_file(path, &len);
		if (!map)
			continue;
		if (len > sg->bytes)
			len = sg->bytes;
		b.n = b.head = 0;
		b.max = max - nfound;
		b.limit = sg->id == before.seg ? before.off : UINT64_MAX;
		b.start = start;
		b.end = end;
		b.seg = sg->id;
		walk(NULL, map, len, back_one, &b, NULL);
		munmap((void *)map, len);
		for (size_t i = b.n; i-- > 0 && !full;) {
			size_t need = b.lens[(b.head + i) % b.max] + overhead;
			if (nfound && bytes + need > max_bytes) {
				full = 1;
				break;
			}
			bytes += need;
			found[nfound++] = b.v[(b.head + i) % b.max];
		}
	}
	if (nfound)
		*first = found[nfound - 1];
	/* deliver oldest first, one mapping per segment */
	const unsigned char *map = NULL;
	size_t len = 0;
	uint32_t mapped = 0;
	for (size_t i = nfound; i-- > 0;) {
		struct logstore_pos p = found[i];
		if (!map || mapped != p.seg) {
			if (map)
				munmap((void *)map, len);
			char path[PATH_MAX];
			seg_path(s, p.seg, path, sizeof(path));
			map = map_file(path, &len);
			mapped = p.seg;
			if (!map)
				continue;
		}
		if (p.off + HDR > len)
			continue;
		struct logstore_event ev;
		uint32_t mlen;
		memcpy(&mlen, map + p.off, 4);
		if (p.off + HDR + mlen > len)
			continue;
		memcpy(&ev.ts, map + p.off + 8, 8);
		memcpy(&ev.ingest, map + p.off + 16, 8);
		ev.msg = (const char *)map + p.off + HDR;
		ev.len = mlen;
		fn(ud, &ev, p, (struct logstore_pos){ p.seg, p.off + HDR + mlen });
	}
	if (map)
		munmap((void *)map, len);
out:
	free(found);
	free(b.v);
	free(b.lens);
	return rc;
}

/* ---- maintenance ---- */

struct expire {
	logstore_t *ls;
	int64_t cutoff;
	int dropped;
};

struct keep {
	buf_t *out;
	struct seg *sg;
	int64_t cutoff;
};

static void keep_one(void *ud, const struct logstore_event *ev, uint64_t off, uint64_t next)
{
	struct keep *k = ud;
	if (ev->ts < k->cutoff)
		return;
	struct seg *sg = k->sg;
	if (buf_reserve(k->out, HDR + ev->len))
		return;
	/* the record as it is (header and message), byte for byte */
	buf_append(k->out, (const char *)ev->msg - HDR, HDR + ev->len);
	struct logstore_event e = *ev;
	summarize(sg, &e, 0, 0);
	sg->bytes = k->out->len;
}

/* rewrites segment i of s without its events older than cutoff */
static int rewrite_segment(logstore_t *ls, ls_stream_t *s, size_t i, int64_t cutoff)
{
	char path[PATH_MAX], name[32];
	size_t len;
	seg_path(s, s->segs[i].id, path, sizeof(path));
	const unsigned char *map = map_file(path, &len);
	if (!map)
		return LD_EIO;
	if (len > s->segs[i].bytes)
		len = s->segs[i].bytes;
	buf_t out;
	buf_init(&out, len + 1);
	struct seg sg = { .id = s->segs[i].id };
	struct keep k = { &out, &sg, cutoff };
	walk(ls->crc, map, len, keep_one, &k, NULL);
	munmap((void *)map, len);
	snprintf(name, sizeof(name), "%08x.seg", sg.id);
	int rc = write_atomic(ls, s->dir, name, out.data ? out.data : "", out.len);
	buf_free(&out);
	if (rc)
		return rc;
	ls->total -= s->segs[i].bytes - sg.bytes;
	s->segs[i] = sg;
	return 0;
}

static void expire_stream(void *ud, const char *key, void *val)
{
	struct expire *x = ud;
	ls_stream_t *s = val;
	int changed = 0;
	for (size_t i = 0; i < s->nsegs;) {
		if (s->segs[i].count && s->segs[i].max_ts < x->cutoff) {
			drop_segment(x->ls, s, i);
			x->dropped++;
			changed = 1;
		} else {
			if (s->segs[i].count && s->segs[i].min_ts < x->cutoff &&
			    rewrite_segment(x->ls, s, i, x->cutoff) == 0)
				changed = 1;
			i++;
		}
	}
	if (changed)
		write_index(x->ls, s);
}

static void expire_group(void *ud, const char *key, void *val)
{
	struct expire *x = ud;
	ls_group_t *g = val;
	if (!g->retention)
		return;
	x->cutoff = logstore_now_ms() - (int64_t)g->retention * 86400000;
	strmap_each(g->streams, expire_stream, x);
}

int logstore_expire(logstore_t *ls, int64_t now_ms)
{
	struct expire x = { .ls = ls };
	if (ls->o.readonly)
		return 0;
	(void)now_ms;
	strmap_each(ls->groups, expire_group, &x);
	return x.dropped;
}

static void count_streams(void *ud, const char *key, void *val)
{
	*(size_t *)ud += strmap_size(((ls_group_t *)val)->streams);
}

void logstore_stats(const logstore_t *ls, struct logstore_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->bytes = ls->total;
	out->max_bytes = ls->o.max_bytes;
	out->dropped_segments = ls->dropped_segments;
	out->dropped_bytes = ls->dropped_bytes;
	out->groups = strmap_size(ls->groups);
	strmap_each(ls->groups, count_streams, &out->streams);
}

/* ---- tokens ---- */

void logstore_token_format(char dir, struct logstore_pos pos, char out[40])
{
	snprintf(out, 40, "%c/%010u%020llu", dir, pos.seg, (unsigned long long)pos.off);
}

int logstore_token_parse(const char *tok, char *dir, struct logstore_pos *pos)
{
	if (!tok || (tok[0] != 'f' && tok[0] != 'b') || tok[1] != '/' || strlen(tok) != 32)
		return LD_EINVAL;
	unsigned long long seg = 0, off = 0;
	for (int i = 2; i < 32; i++) {
		if (tok[i] < '0' || tok[i] > '9')
			return LD_EINVAL;
		if (i < 12)
			seg = seg * 10 + (unsigned)(tok[i] - '0');
		else if (off > (UINT64_MAX - (unsigned)(tok[i] - '0')) / 10)
			return LD_EINVAL;
		else
			off = off * 10 + (unsigned)(tok[i] - '0');
	}
	if (seg > UINT32_MAX)
		return LD_EINVAL;
	*dir = tok[0];
	pos->seg = (uint32_t)seg;
	pos->off = off;
	return 0;
}
