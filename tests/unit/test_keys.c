/*
 * test_keys.c - the access key store: create/list/delete through the
 * command-line functions, lookups by a reader that sees changes at once,
 * sealed secrets, session tokens, file modes, a damaged or foreign store.
 */
#include "t.h"
#include "auth/keys.h"
#include "util/err.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char dir[256];

static int rm_one(const char *p, const struct stat *s, int flag, struct FTW *f)
{
	return remove(p);
}

static json_t *create(const char *account, long duration)
{
	struct keys_create_opts o = { account, NULL, NULL, duration };
	json_t *out = NULL;
	const char *why = NULL;
	CHECK(keys_create(dir, &o, &out, &why) == 0);
	return out;
}

static const char *field(json_t *doc, const char *name)
{
	return json_string_value(json_object_get(json_object_get(doc, "AccessKey"), name));
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	static char buf[65536];
	size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
	buf[n] = 0;
	if (f)
		fclose(f);
	return buf;
}

static void test_create_lookup_delete(void)
{
	keys_t *k = NULL;
	verify_key_t key;
	CHECK(keys_open(dir, &k) == 0);
	CHECK(keys_count(k) == 0);
	CHECK(keys_lookup(k, "AKIANOTHERE", NULL, &key) == LD_ENOTFOUND);
	json_t *a = create("111111111111", 0);
	json_t *b = create("222222222222", 0);
	/* the reader sees new keys without being reopened */
	CHECK(keys_count(k) == 2);
	CHECK(keys_lookup(k, field(a, "AccessKeyId"), NULL, &key) == 0);
	CHECK_STR(key.secret, field(a, "SecretAccessKey"));
	CHECK_STR(key.account_id, "111111111111");
	CHECK_STR(key.principal_arn, "arn:aws:iam::111111111111:user/lambdad");
	CHECK(key.expires == 0);
	char acct[32];
	CHECK(keys_account_of(k, field(b, "AccessKeyId"), acct) == 0);
	CHECK_STR(acct, "222222222222");
	/* a token on a long-term key does not belong to it */
	CHECK(keys_lookup(k, field(a, "AccessKeyId"), "tok", &key) == LD_ENOTFOUND);
	/* the secret is not stored in the clear */
	char path[512];
	snprintf(path, sizeof path, "%s/auth/keys.json", dir);
	CHECK(strstr(slurp(path), field(a, "SecretAccessKey")) == NULL);
	CHECK(strstr(slurp(path), field(a, "AccessKeyId")) != NULL);
	struct stat st;
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	snprintf(path, sizeof path, "%s/auth", dir);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0700);
	/* list shows no secret */
	json_t *l = NULL;
	CHECK(keys_list(dir, "111111111111", &l) == 0);
	CHECK(json_array_size(json_object_get(l, "AccessKeyMetadata")) == 1);
	char *text = json_dumps(l, 0);
	CHECK(text && !strstr(text, field(a, "SecretAccessKey")) && !strstr(text, "Sealed"));
	free(text);
	json_decref(l);
	/* delete: gone for the reader at once */
	CHECK(keys_delete(dir, field(a, "AccessKeyId")) == 0);
	CHECK(keys_delete(dir, field(a, "AccessKeyId")) == LD_ENOTFOUND);
	CHECK(keys_lookup(k, field(a, "AccessKeyId"), NULL, &key) == LD_ENOTFOUND);
	CHECK(keys_lookup(k, field(b, "AccessKeyId"), NULL, &key) == 0);
	json_decref(a);
	json_decref(b);
	keys_close(k);
}

/* a data directory without DATA/auth that has been quiet for a while is
 * watched through its own timestamps: the first key made in it is seen at
 * once all the same */
static void test_first_key_in_quiet_dir(void)
{
	char quiet[300];
	snprintf(quiet, sizeof quiet, "%s/quiet", dir);
	CHECK(mkdir(quiet, 0700) == 0);
	struct timespec old[2] = { { time(NULL) - 3600, 0 }, { time(NULL) - 3600, 0 } };
	CHECK(utimensat(AT_FDCWD, quiet, old, 0) == 0);
	keys_t *k = NULL;
	verify_key_t key;
	CHECK(keys_open(quiet, &k) == 0);
	CHECK(keys_lookup(k, "AKIANOTHERE", NULL, &key) == LD_ENOTFOUND);
	CHECK(keys_lookup(k, "AKIANOTHERE", NULL, &key) == LD_ENOTFOUND); /* now on the quiet path */
	struct keys_create_opts o = { "333333333333", NULL, NULL, 0 };
	json_t *a = NULL;
	const char *why = NULL;
	CHECK(keys_create(quiet, &o, &a, &why) == 0);
	CHECK(keys_lookup(k, field(a, "AccessKeyId"), NULL, &key) == 0);
	CHECK_STR(key.account_id, "333333333333");
	json_decref(a);
	keys_close(k);
}

static void test_session_keys(void)
{
	keys_t *k = NULL;
	verify_key_t key;
	CHECK(keys_open(dir, &k) == 0);
	json_t *t = create("333333333333", 900);
	const char *id = field(t, "AccessKeyId");
	CHECK(id && !strncmp(id, "ASIA", 4));
	CHECK(keys_lookup(k, id, NULL, &key) == LD_ENOTFOUND);
	CHECK(keys_lookup(k, id, "wrong", &key) == LD_ENOTFOUND);
	CHECK(keys_lookup(k, id, field(t, "SessionToken"), &key) == 0);
	CHECK(key.expires > time(NULL) + 800 && key.expires <= time(NULL) + 900);
	json_decref(t);
	keys_close(k);
}

static void test_bad_options(void)
{
	json_t *out = NULL;
	const char *why = NULL;
	struct keys_create_opts o = { "12345", NULL, NULL, 0 };
	CHECK(keys_create(dir, &o, &out, &why) == LD_EINVAL && why);
	o = (struct keys_create_opts){ "123456789012", "bad name!", NULL, 0 };
	CHECK(keys_create(dir, &o, &out, &why) == LD_EINVAL && why);
	o = (struct keys_create_opts){ "123456789012", NULL, "arn:aws:iam::999999999999:user/x", 0 };
	CHECK(keys_create(dir, &o, &out, &why) == LD_EINVAL && why);
	o = (struct keys_create_opts){ "123456789012", NULL, "arn:aws:iam::123456789012:role/r", 0 };
	CHECK(keys_create(dir, &o, &out, &why) == 0);
	CHECK_STR(field(out, "PrincipalArn"), "arn:aws:iam::123456789012:role/r");
	json_decref(out);
}

static void test_damaged_store_keeps_previous_set(void)
{
	keys_t *k = NULL;
	verify_key_t key;
	json_t *a = create("444444444444", 0);
	CHECK(keys_open(dir, &k) == 0);
	CHECK(keys_lookup(k, field(a, "AccessKeyId"), NULL, &key) == 0);
	char path[512], tmp[520];
	snprintf(path, sizeof path, "%s/auth/keys.json", dir);
	snprintf(tmp, sizeof tmp, "%s.x", path);
	FILE *f = fopen(tmp, "w");
	CHECK(f != NULL);
	if (f) {
		fputs("{ not json", f);
		fclose(f);
	}
	CHECK(rename(tmp, path) == 0);
	CHECK(keys_lookup(k, field(a, "AccessKeyId"), NULL, &key) == 0);
	/* and a store whose master key is another one unseals nothing */
	CHECK(unlink(path) == 0);
	CHECK(keys_lookup(k, field(a, "AccessKeyId"), NULL, &key) == LD_ENOTFOUND);
	json_t *b = create("555555555555", 0);
	snprintf(path, sizeof path, "%s/auth/master.key", dir);
	f = fopen(path, "w");
	if (f) {
		fputs("0123456789abcdef0123456789abcdef", f);
		fclose(f);
	}
	keys_t *k2 = NULL;
	CHECK(keys_open(dir, &k2) == 0);
	CHECK(keys_lookup(k2, field(b, "AccessKeyId"), NULL, &key) == LD_ENOTFOUND);
	keys_close(k2);
	keys_close(k);
	json_decref(a);
	json_decref(b);
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/lambdad-test-keys-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	T_RUN(test_create_lookup_delete);
	T_RUN(test_first_key_in_quiet_dir);
	T_RUN(test_session_keys);
	T_RUN(test_bad_options);
	T_RUN(test_damaged_store_keeps_previous_set);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return t_done("test_keys");
}
