/*
 * keys.c - the access key store (see keys.h for the files and the rules).
 *
 * keys.json:
 *   {"Version": 1, "Keys": [{"AccessKeyId": "AKIA...", "Sealed": base64(nonce
 *    12 | ciphertext | tag 16), "AccountId": "...", "UserName": "...",
 *    "PrincipalArn": "...", "Status": "Active", "CreateDate": "...",
 *    ["TokenSha256": hex, "Expiration": "..."]}, ...]}
 *
 * The server keeps the unsealed set in a sorted array (binary search by key
 * id) and re-reads the file when it is another file than the one it read.
 * Every write renames a file into DATA/auth, which moves the directory's
 * mtime: a lookup costs one fstat() of the open directory while nothing
 * changed. While DATA/auth does not exist (no key was ever made), the
 * data directory is watched the same way: making DATA/auth moves its mtime.
 */
#include "auth/keys.h"

#include "util/base64.h"
#include "util/err.h"
#include "util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MASTER_LEN 32
#define NONCE_LEN 12
#define TAG_LEN 16
#define KEYS_FILE_CAP (16u * 1024 * 1024) /* the store is refused past this */
#define SECRET_LEN 40
#define TOKEN_BYTES 96

struct entry {
	char akid[129];
	char secret[129];
	char account[32];
	char principal[256];
	unsigned char token_sha[SHA256_DIGEST_LENGTH];
	int has_token;
	long long expires;
};

struct keys {
	char dir[PATH_MAX];
	char file[PATH_MAX];
	char master[PATH_MAX];
	/* identity of the file the set was read from; all zero: none */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	struct entry *v; /* sorted by akid */
	size_t n;
	struct entry *minted; /* keys_mint(), sorted by akid, memory only */
	size_t nminted, cminted;
	int warned;
	/* DATA/auth, open: a rename into it (any change of the store) moves its
	 * mtime, and fstat() of an open directory costs no path walk */
	int dirfd;
	struct timespec dir_mtime, dir_ctime;
	/* DATA, open, watched while DATA/auth is missing */
	int datafd;
	struct timespec data_mtime, data_ctime;
};

static int paths(const char *data_dir, char dir[PATH_MAX], char file[PATH_MAX], char master[PATH_MAX])
{
	if (snprintf(dir, PATH_MAX, "%s/auth", data_dir) >= PATH_MAX ||
	    snprintf(file, PATH_MAX, "%s/keys.json", dir) >= PATH_MAX ||
	    snprintf(master, PATH_MAX, "%s/master.key", dir) >= PATH_MAX)
		return LD_EINVAL;
	return 0;
}

/* a whole small file; LD_ENOTFOUND when it does not exist */
static int read_file(const char *path, size_t cap, unsigned char **out, size_t *len)
{
	void *data = NULL;
	int rc = file_read(path, cap, &data, len);
	if (rc == LD_ETOOBIG)
		rc = LD_EIO;
	*out = data;
	return rc;
}

/* ---- sealing ---- */

static int load_master(const char *path, unsigned char key[MASTER_LEN])
{
	unsigned char *data = NULL;
	size_t len = 0;
	int rc = read_file(path, 4096, &data, &len);
	if (rc)
		return rc;
	if (len != MASTER_LEN)
		rc = LD_EIO;
	else
		memcpy(key, data, MASTER_LEN);
	OPENSSL_cleanse(data, len);
	free(data);
	return rc;
}

/* AES-256-GCM(key, aad) of the secret -> base64 of nonce | ciphertext | tag */
static int seal(const unsigned char key[MASTER_LEN], const char *aad, const char *secret, char *out, size_t cap)
{
	int rc = LD_EIO, len = 0, fin = 0;
	unsigned char raw[NONCE_LEN + 256 + TAG_LEN];
	size_t slen = strlen(secret);
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	if (!c || slen > 256 || 4 * ((NONCE_LEN + slen + TAG_LEN + 2) / 3) + 1 > cap)
		goto out;
	if (RAND_bytes(raw, NONCE_LEN) != 1 ||
	    EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, raw) != 1 ||
	    EVP_EncryptUpdate(c, NULL, &len, (const unsigned char *)aad, (int)strlen(aad)) != 1 ||
	    EVP_EncryptUpdate(c, raw + NONCE_LEN, &len, (const unsigned char *)secret, (int)slen) != 1 ||
	    EVP_EncryptFinal_ex(c, raw + NONCE_LEN + len, &fin) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, raw + NONCE_LEN + len + fin) != 1)
		goto out;
	EVP_EncodeBlock((unsigned char *)out, raw, NONCE_LEN + len + fin + TAG_LEN);
	rc = 0;
out:
	OPENSSL_cleanse(raw, sizeof raw);
	EVP_CIPHER_CTX_free(c);
	return rc;
}

static int unseal(const unsigned char key[MASTER_LEN], const char *aad, const char *sealed, char *out, size_t cap)
{
	int rc = LD_EIO, len = 0, fin = 0;
	unsigned char raw[NONCE_LEN + 256 + TAG_LEN + 4];
	size_t blen = strlen(sealed);
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	size_t dlen = 0;
	if (!c || b64_decode_to(sealed, blen, raw, sizeof raw, &dlen))
		goto out;
	int clen = (int)dlen - NONCE_LEN - TAG_LEN;
	if (clen <= 0 || (size_t)clen >= cap)
		goto out;
	if (EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, raw) != 1 ||
	    EVP_DecryptUpdate(c, NULL, &len, (const unsigned char *)aad, (int)strlen(aad)) != 1 ||
	    EVP_DecryptUpdate(c, (unsigned char *)out, &len, raw + NONCE_LEN, clen) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, raw + NONCE_LEN + clen) != 1 ||
	    EVP_DecryptFinal_ex(c, (unsigned char *)out + len, &fin) != 1)
		goto out;
	out[len + fin] = 0;
	rc = 0;
out:
	if (rc)
		OPENSSL_cleanse(out, cap);
	OPENSSL_cleanse(raw, sizeof raw);
	EVP_CIPHER_CTX_free(c);
	return rc;
}

static void sha256_hex(const char *s, char out[2 * SHA256_DIGEST_LENGTH + 1])
{
	unsigned char d[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)s, strlen(s), d);
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static int unhex(const char *s, unsigned char *out, size_t n)
{
	if (strlen(s) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return 0;
}

static int parse_time(const char *s, long long *t)
{
	struct tm tm = { 0 };
	const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	if (!end)
		return -1;
	*t = (long long)timegm(&tm);
	return 0;
}

static void format_time(long long t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
}

/* ---- reading the set (server) ---- */

static void free_set(struct entry *v, size_t n)
{
	if (v)
		OPENSSL_cleanse(v, n * sizeof *v);
	free(v);
}

static int by_akid(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->akid, ((const struct entry *)b)->akid);
}

/* parses the document into a sorted array of unsealed entries */
static int load_set(const char *master_path, json_t *doc, struct entry **out, size_t *nout)
{
	int rc = 0;
	unsigned char mk[MASTER_LEN];
	json_t *list = json_object_get(doc, "Keys");
	size_t n = json_array_size(list), k = 0;
	struct entry *v = n ? calloc(n, sizeof *v) : NULL;
	if (n && !v)
		return LD_ENOMEM;
	if (n && (rc = load_master(master_path, mk)))
		goto out;
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(list, i);
		const char *akid = json_string_value(json_object_get(e, "AccessKeyId"));
		const char *sealed = json_string_value(json_object_get(e, "Sealed"));
		const char *acct = json_string_value(json_object_get(e, "AccountId"));
		const char *status = json_string_value(json_object_get(e, "Status"));
		const char *princ = json_string_value(json_object_get(e, "PrincipalArn"));
		const char *tok = json_string_value(json_object_get(e, "TokenSha256"));
		const char *exp = json_string_value(json_object_get(e, "Expiration"));
		if (!akid || !sealed || !acct || strlen(akid) >= sizeof v[k].akid || strlen(acct) >= sizeof v[k].account)
			continue;
		if (status && strcmp(status, "Active") != 0)
			continue;
		struct entry *x = &v[k];
		snprintf(x->akid, sizeof x->akid, "%s", akid);
		snprintf(x->account, sizeof x->account, "%s", acct);
		snprintf(x->principal, sizeof x->principal, "%s", princ ? princ : "");
		if (tok) {
			if (unhex(tok, x->token_sha, sizeof x->token_sha))
				continue;
			x->has_token = 1;
		}
		if (exp && parse_time(exp, &x->expires))
			continue;
		if (unseal(mk, akid, sealed, x->secret, sizeof x->secret))
			continue; /* sealed under another master key: unusable */
		k++;
	}
	qsort(v, k, sizeof *v, by_akid);
	*out = v;
	*nout = k;
	v = NULL;
out:
	OPENSSL_cleanse(mk, sizeof mk);
	free_set(v, n);
	return rc;
}

/* re-reads the file when it is not the one the set came from; cheap
 * (one fstat of the open directory) while nothing changed */
static void refresh(keys_t *k)
{
	struct stat st;
	if (k->dirfd < 0 && k->datafd >= 0 && fstat(k->datafd, &st) == 0) {
		/* no DATA/auth when last looked: nothing to read until DATA changes
		 * (the same two-second distrust of fresh timestamps as below) */
		int same = time(NULL) > st.st_mtim.tv_sec + 2 && st.st_mtim.tv_sec == k->data_mtime.tv_sec &&
			   st.st_mtim.tv_nsec == k->data_mtime.tv_nsec && st.st_ctim.tv_sec == k->data_ctime.tv_sec &&
			   st.st_ctim.tv_nsec == k->data_ctime.tv_nsec;
		k->data_mtime = st.st_mtim;
		k->data_ctime = st.st_ctim;
		if (same)
			return;
	}
	if (k->dirfd < 0)
		k->dirfd = open(k->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (k->dirfd >= 0) {
		/* file timestamps come from a coarse clock (a few ms): two changes
		 * within one tick leave the same mtime, so a directory changed in
		 * the last two seconds is not trusted and the file is checked */
		if (fstat(k->dirfd, &st) == 0 && st.st_nlink > 0 && time(NULL) > st.st_mtim.tv_sec + 2 &&
		    st.st_mtim.tv_sec == k->dir_mtime.tv_sec &&
		    st.st_mtim.tv_nsec == k->dir_mtime.tv_nsec && st.st_ctim.tv_sec == k->dir_ctime.tv_sec &&
		    st.st_ctim.tv_nsec == k->dir_ctime.tv_nsec)
			return;
		if (st.st_nlink == 0) { /* the directory was removed: look again */
			close(k->dirfd);
			k->dirfd = open(k->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		}
		if (k->dirfd >= 0 && fstat(k->dirfd, &st) == 0) {
			/* remembered before reading, so a change during the read is seen next time */
			k->dir_mtime = st.st_mtim;
			k->dir_ctime = st.st_ctim;
		}
	}
	if (stat(k->file, &st) < 0) {
		if (k->ino || k->n) {
			free_set(k->v, k->n);
			k->v = NULL;
			k->n = 0;
			k->dev = 0;
			k->ino = 0;
		}
		return;
	}
	if (st.st_ino == k->ino && st.st_dev == k->dev && st.st_size == k->size &&
	    st.st_mtim.tv_sec == k->mtime.tv_sec && st.st_mtim.tv_nsec == k->mtime.tv_nsec)
		return;
	unsigned char *data = NULL;
	size_t len = 0;
	json_t *doc = NULL;
	struct entry *v = NULL;
	size_t n = 0;
	int rc = read_file(k->file, KEYS_FILE_CAP, &data, &len);
	if (!rc) {
		doc = json_loadb((const char *)data, len, 0, NULL);
		rc = doc ? load_set(k->master, doc, &v, &n) : LD_EIO;
	}
	if (data)
		OPENSSL_cleanse(data, len);
	free(data);
	json_decref(doc);
	if (rc) {
		/* keep the set we have; say so once per broken file */
		if (!k->warned)
			fprintf(stderr, "lambdad: cannot read the key store %s (%s); keeping the previous keys\n",
				k->file, ld_strerror(rc));
		k->warned = 1;
		return;
	}
	free_set(k->v, k->n);
	k->v = v;
	k->n = n;
	k->dev = st.st_dev;
	k->ino = st.st_ino;
	k->size = st.st_size;
	k->mtime = st.st_mtim;
	k->warned = 0;
}

int keys_open(const char *data_dir, keys_t **out)
{
	keys_t *k = calloc(1, sizeof *k);
	if (!k)
		return LD_ENOMEM;
	k->dirfd = -1;
	if (paths(data_dir, k->dir, k->file, k->master)) {
		free(k);
		return LD_EINVAL;
	}
	k->datafd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* -1: not watched, DATA/auth is looked for */
	refresh(k);
	*out = k;
	return 0;
}

void keys_close(keys_t *k)
{
	if (!k)
		return;
	if (k->dirfd >= 0)
		close(k->dirfd);
	if (k->datafd >= 0)
		close(k->datafd);
	free_set(k->v, k->n);
	free_set(k->minted, k->cminted);
	free(k);
}

static const struct entry *find(keys_t *k, const char *akid)
{
	if (!k)
		return NULL;
	refresh(k);
	struct entry probe;
	if (!akid || strlen(akid) >= sizeof probe.akid)
		return NULL;
	snprintf(probe.akid, sizeof probe.akid, "%s", akid);
	const struct entry *e = k->n ? bsearch(&probe, k->v, k->n, sizeof *k->v, by_akid) : NULL;
	if (!e && k->nminted)
		e = bsearch(&probe, k->minted, k->nminted, sizeof *k->minted, by_akid);
	return e;
}

int keys_lookup(void *ctx, const char *access_key_id, const char *session_token, verify_key_t *key)
{
	const struct entry *e = find(ctx, access_key_id);
	if (!e)
		return LD_ENOTFOUND;
	if (e->has_token || session_token) {
		unsigned char d[SHA256_DIGEST_LENGTH];
		if (!e->has_token || !session_token)
			return LD_ENOTFOUND;
		SHA256((const unsigned char *)session_token, strlen(session_token), d);
		if (CRYPTO_memcmp(d, e->token_sha, sizeof d) != 0)
			return LD_ENOTFOUND;
	}
	memcpy(key->secret, e->secret, sizeof key->secret);
	memcpy(key->account_id, e->account, sizeof key->account_id);
	memcpy(key->principal_arn, e->principal, sizeof key->principal_arn);
	key->expires = e->expires;
	return 0;
}

int keys_account_of(keys_t *k, const char *access_key_id, char account[32])
{
	const struct entry *e = find(k, access_key_id);
	if (!e)
		return LD_ENOTFOUND;
	memcpy(account, e->account, 32);
	return 0;
}

size_t keys_count(keys_t *k)
{
	if (!k)
		return 0;
	refresh(k);
	return k->n;
}

/* n random characters of alphabet */
static int random_chars(const char *alphabet, char *out, size_t n)
{
	size_t alen = strlen(alphabet);
	unsigned char r[256];
	if (n > sizeof r || RAND_bytes(r, (int)n) != 1)
		return LD_EIO;
	for (size_t i = 0; i < n; i++)
		out[i] = alphabet[r[i] % alen]; /* 256 % 32 == 0 and % 64 == 0: unbiased */
	out[n] = 0;
	OPENSSL_cleanse(r, sizeof r);
	return 0;
}

/* A new key: prefix (AKIA, ASIA) + 16 base32 characters, a 40-character
 * secret and, when token is not NULL, a session token (base64 of
 * TOKEN_BYTES random bytes). akid 21, secret SECRET_LEN + 1 and token
 * TOKEN_BYTES * 4 / 3 + 1 bytes at least. 0 or LD_EIO. */
static int new_credentials(const char *prefix, char *akid, char *secret, char *token)
{
	static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char raw[TOKEN_BYTES];
	memcpy(akid, prefix, 4);
	if (random_chars(b32, akid + 4, 16) || random_chars(b64, secret, SECRET_LEN))
		return LD_EIO;
	if (!token)
		return 0;
	if (RAND_bytes(raw, sizeof raw) != 1)
		return LD_EIO;
	EVP_EncodeBlock((unsigned char *)token, raw, sizeof raw);
	OPENSSL_cleanse(raw, sizeof raw);
	return 0;
}

int keys_mint(keys_t *k, const char *account, const char *principal, long ttl_s, struct keys_minted *out)
{
	struct entry e;
	memset(&e, 0, sizeof e);
	memset(out, 0, sizeof *out);
	if (!k || strlen(account) >= sizeof e.account || strlen(principal) >= sizeof e.principal)
		return LD_EINVAL;
	if (new_credentials("ASIA", out->access_key_id, out->secret, out->session_token))
		return LD_EIO;
	out->expires = (long long)time(NULL) + ttl_s;
	if (k->nminted == k->cminted) {
		size_t c = k->cminted ? 2 * k->cminted : 16;
		struct entry *v = calloc(c, sizeof *v);
		if (!v)
			return LD_ENOMEM;
		if (k->nminted)
			memcpy(v, k->minted, k->nminted * sizeof *v);
		free_set(k->minted, k->cminted);
		k->minted = v;
		k->cminted = c;
	}
	snprintf(e.akid, sizeof e.akid, "%s", out->access_key_id);
	snprintf(e.secret, sizeof e.secret, "%s", out->secret);
	snprintf(e.account, sizeof e.account, "%s", account);
	snprintf(e.principal, sizeof e.principal, "%s", principal);
	SHA256((const unsigned char *)out->session_token, strlen(out->session_token), e.token_sha);
	e.has_token = 1;
	e.expires = out->expires;
	size_t at = 0;
	while (at < k->nminted && strcmp(k->minted[at].akid, e.akid) < 0)
		at++;
	memmove(&k->minted[at + 1], &k->minted[at], (k->nminted - at) * sizeof e);
	k->minted[at] = e;
	k->nminted++;
	OPENSSL_cleanse(&e, sizeof e);
	return 0;
}

void keys_revoke(keys_t *k, const char *access_key_id)
{
	for (size_t i = 0; k && i < k->nminted; i++) {
		if (strcmp(k->minted[i].akid, access_key_id) != 0)
			continue;
		OPENSSL_cleanse(&k->minted[i], sizeof k->minted[i]);
		memmove(&k->minted[i], &k->minted[i + 1], (k->nminted - i - 1) * sizeof k->minted[i]);
		k->nminted--;
		OPENSSL_cleanse(&k->minted[k->nminted], sizeof k->minted[0]);
		return;
	}
}

/* ---- writing (command line) ---- */

struct store_files {
	char dir[PATH_MAX], file[PATH_MAX], master[PATH_MAX];
	int lock_fd;
	uid_t uid; /* owner of the data directory: the server's user */
	gid_t gid;
};

/* a file or directory made by root for a server that may run as the data
 * directory's owner */
static void give(const struct store_files *s, int fd, const char *path)
{
	if (geteuid() != 0 || s->uid == 0)
		return;
	if (fd >= 0 ? fchown(fd, s->uid, s->gid) : chown(path, s->uid, s->gid))
		(void)0; /* best effort: the modes still keep others out */
}

/* creates DATA/auth (0700), takes the lock */
static int begin(const char *data_dir, struct store_files *s)
{
	struct stat st;
	char lock[PATH_MAX];
	s->lock_fd = -1;
	if (paths(data_dir, s->dir, s->file, s->master) || snprintf(lock, sizeof lock, "%s/lock", s->dir) >= PATH_MAX)
		return LD_EINVAL;
	if (mkdir(data_dir, 0700) < 0 && errno != EEXIST)
		return LD_EIO;
	if (stat(data_dir, &st) < 0)
		return LD_EIO;
	s->uid = st.st_uid;
	s->gid = st.st_gid;
	if (mkdir(s->dir, 0700) == 0)
		give(s, -1, s->dir);
	else if (errno != EEXIST)
		return LD_EIO;
	if (chmod(s->dir, 0700) < 0)
		return LD_EIO;
	s->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lock_fd < 0)
		return LD_EIO;
	give(s, s->lock_fd, lock);
	if (flock(s->lock_fd, LOCK_EX) < 0) {
		close(s->lock_fd);
		s->lock_fd = -1;
		return LD_EIO;
	}
	return 0;
}

static void end(struct store_files *s)
{
	if (s->lock_fd >= 0)
		close(s->lock_fd); /* releases the flock */
	s->lock_fd = -1;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return LD_EIO;
	int rc = fsync(fd) < 0 ? LD_EIO : 0;
	close(fd);
	return rc;
}

/* writes data to path atomically: temp file, fsync, rename, fsync dir */
static int write_atomic(const struct store_files *s, const char *path, const void *data, size_t len)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= PATH_MAX)
		return LD_EINVAL;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return LD_EIO;
	int rc = 0;
	size_t done = 0;
	while (done < len) {
		ssize_t w = write(fd, (const char *)data + done, len - done);
		if (w <= 0) {
			rc = LD_EIO;
			break;
		}
		done += (size_t)w;
	}
	give(s, fd, tmp);
	if (!rc && (fchmod(fd, 0600) < 0 || fsync(fd) < 0))
		rc = LD_EIO;
	if (close(fd) < 0 && !rc)
		rc = LD_EIO;
	if (!rc && rename(tmp, path) < 0)
		rc = LD_EIO;
	if (rc)
		unlink(tmp);
	return rc ? rc : fsync_dir(s->dir);
}

static int load_doc(const struct store_files *s, json_t **out)
{
	unsigned char *data = NULL;
	size_t len = 0;
	int rc = read_file(s->file, KEYS_FILE_CAP, &data, &len);
	if (rc == LD_ENOTFOUND) {
		*out = json_pack("{s:i, s:[]}", "Version", 1, "Keys");
		return *out ? 0 : LD_ENOMEM;
	}
	if (rc)
		return rc;
	json_t *doc = json_loadb((const char *)data, len, 0, NULL);
	free(data);
	if (!doc || !json_is_array(json_object_get(doc, "Keys"))) {
		json_decref(doc);
		return LD_EIO;
	}
	*out = doc;
	return 0;
}

static int save_doc(const struct store_files *s, json_t *doc)
{
	char *text = json_dumps(doc, JSON_INDENT(1));
	if (!text)
		return LD_ENOMEM;
	int rc = write_atomic(s, s->file, text, strlen(text));
	free(text);
	return rc;
}

/* the master key, created (under the lock) with the first key */
static int master_key(const struct store_files *s, unsigned char key[MASTER_LEN])
{
	int rc = load_master(s->master, key);
	if (rc != LD_ENOTFOUND)
		return rc;
	if (RAND_bytes(key, MASTER_LEN) != 1)
		return LD_EIO;
	return write_atomic(s, s->master, key, MASTER_LEN);
}

static int valid_account(const char *a)
{
	if (!a || strlen(a) != 12)
		return 0;
	for (int i = 0; i < 12; i++)
		if (a[i] < '0' || a[i] > '9')
			return 0;
	return 1;
}

static int valid_user(const char *u)
{
	size_t n = strlen(u);
	if (n < 1 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+=,.@_-", u[i]))
			return 0;
	return 1;
}

int keys_create(const char *data_dir, const struct keys_create_opts *o, json_t **out, const char **why)
{
	struct store_files s = { .lock_fd = -1 };
	unsigned char mk[MASTER_LEN];
	char akid[21], secret[SECRET_LEN + 1], sealed[256], token[TOKEN_BYTES * 4 / 3 + 8], token_hex[65];
	char principal[256], created[32], expires[32];
	const char *user = o->user_name ? o->user_name : "lambdad";
	json_t *doc = NULL, *entry = NULL, *ak = NULL;
	int rc;

	*why = NULL;
	if (!valid_account(o->account_id)) {
		*why = "--account-id must be 12 digits";
		return LD_EINVAL;
	}
	if (!valid_user(user)) {
		*why = "--user-name must be 1 to 64 characters of [A-Za-z0-9+=,.@_-]";
		return LD_EINVAL;
	}
	if (o->duration_seconds < 0 || o->duration_seconds > 129600) {
		*why = "--duration-seconds must be between 1 and 129600";
		return LD_EINVAL;
	}
	if (o->principal_arn) {
		char prefix[64];
		snprintf(prefix, sizeof prefix, "arn:aws:iam::%s:", o->account_id);
		if (strncmp(o->principal_arn, prefix, strlen(prefix)) != 0 || strlen(o->principal_arn) >= sizeof principal) {
			*why = "--principal-arn must be an IAM ARN of the key's account (arn:aws:iam::ACCOUNT:...)";
			return LD_EINVAL;
		}
		snprintf(principal, sizeof principal, "%s", o->principal_arn);
	} else {
		snprintf(principal, sizeof principal, "arn:aws:iam::%s:user/%s", o->account_id, user);
	}
	long long now = (long long)time(NULL);
	format_time(now, created);
	format_time(now + o->duration_seconds, expires);
	if ((rc = new_credentials(o->duration_seconds ? "ASIA" : "AKIA", akid, secret,
				  o->duration_seconds ? token : NULL)))
		goto out;
	if (o->duration_seconds)
		sha256_hex(token, token_hex);
	if ((rc = begin(data_dir, &s)) || (rc = master_key(&s, mk)) || (rc = seal(mk, akid, secret, sealed, sizeof sealed)) ||
	    (rc = load_doc(&s, &doc)))
		goto out;
	entry = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "AccessKeyId", akid, "Sealed", sealed, "AccountId",
			  o->account_id, "UserName", user, "PrincipalArn", principal, "Status", "Active", "CreateDate",
			  created);
	if (!entry) {
		rc = LD_ENOMEM;
		goto out;
	}
	if (o->duration_seconds) {
		json_object_set_new(entry, "TokenSha256", json_string(token_hex));
		json_object_set_new(entry, "Expiration", json_string(expires));
	}
	if (json_array_append(json_object_get(doc, "Keys"), entry) || (rc = save_doc(&s, doc)))
		goto out;
	ak = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "UserName", user, "AccessKeyId", akid, "Status", "Active",
		       "SecretAccessKey", secret, "CreateDate", created, "AccountId", o->account_id, "PrincipalArn",
		       principal);
	if (ak && o->duration_seconds) {
		json_object_set_new(ak, "SessionToken", json_string(token));
		json_object_set_new(ak, "Expiration", json_string(expires));
	}
	*out = ak ? json_pack("{s:o}", "AccessKey", ak) : NULL;
	rc = *out ? 0 : LD_ENOMEM;
out:
	end(&s);
	OPENSSL_cleanse(mk, sizeof mk);
	OPENSSL_cleanse(secret, sizeof secret);
	OPENSSL_cleanse(token, sizeof token);
	json_decref(entry);
	json_decref(doc);
	return rc;
}

int keys_list(const char *data_dir, const char *account_id, json_t **out)
{
	struct store_files s = { .lock_fd = -1 };
	json_t *doc = NULL, *list = json_array();
	int rc;
	if (!list)
		return LD_ENOMEM;
	if ((rc = paths(data_dir, s.dir, s.file, s.master)) || (rc = load_doc(&s, &doc)))
		goto out;
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(doc, "Keys"), i, e) {
		const char *acct = json_string_value(json_object_get(e, "AccountId"));
		if (account_id && (!acct || strcmp(acct, account_id) != 0))
			continue;
		json_t *m = json_object();
		static const char *const fields[] = { "UserName", "AccessKeyId", "Status", "CreateDate",
						      "AccountId", "PrincipalArn", "Expiration" };
		for (size_t f = 0; m && f < sizeof fields / sizeof fields[0]; f++) {
			json_t *v = json_object_get(e, fields[f]);
			if (v)
				json_object_set(m, fields[f], v);
		}
		if (!m || json_array_append_new(list, m)) {
			rc = LD_ENOMEM;
			goto out;
		}
	}
	*out = json_pack("{s:O}", "AccessKeyMetadata", list);
	rc = *out ? 0 : LD_ENOMEM;
out:
	json_decref(list);
	json_decref(doc);
	return rc;
}

int keys_delete(const char *data_dir, const char *access_key_id)
{
	struct store_files s = { .lock_fd = -1 };
	json_t *doc = NULL;
	int rc;
	if ((rc = begin(data_dir, &s)) || (rc = load_doc(&s, &doc)))
		goto out;
	json_t *list = json_object_get(doc, "Keys");
	size_t i;
	json_t *e;
	rc = LD_ENOTFOUND;
	json_array_foreach(list, i, e) {
		const char *akid = json_string_value(json_object_get(e, "AccessKeyId"));
		if (akid && !strcmp(akid, access_key_id)) {
			json_array_remove(list, i);
			rc = save_doc(&s, doc);
			break;
		}
	}
out:
	end(&s);
	json_decref(doc);
	return rc;
}
