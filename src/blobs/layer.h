/*
 * layer.h - unpacking one container image layer (an OCI / Docker layer
 * tar, gzip- or zstd-compressed or plain; libarchive) into a directory that
 * serves as an overlayfs lower layer.
 *
 * A layer is untrusted input, unpacked by root, so the care of zip.h applies
 * where an image needs less freedom than a zip and more where it needs
 * more: every path is walked from a descriptor of the destination one
 * component at a time (mkdirat, openat with O_NOFOLLOW, linkat), so nothing
 * is written outside it and no symlink is followed while writing. Entry
 * names are relative without ".." components (a leading "./" or "/" is
 * dropped, as tar does). Symlinks may point anywhere (an image's absolute
 * links resolve inside the sandbox's root, where the layers are the root);
 * hard links must name an earlier entry of the same layer. Regular files
 * keep their permission bits without setuid, setgid and sticky; owners are
 * not kept (everything belongs to the unpacking user, as lambdad shows the
 * image read-only to one unprivileged uid). Devices, fifos and sockets are
 * skipped (the sandbox brings its own /dev).
 *
 * Whiteouts become overlayfs's: ".wh.NAME" a 0:0 character device NAME,
 * ".wh..wh..opq" the trusted.overlay.opaque xattr on its directory; so the
 * layers stacked as overlay lower directories give the image's root (mknod
 * and trusted.* xattrs need root, as does the full sandbox that runs
 * images).
 */
#ifndef LD_LAYER_H
#define LD_LAYER_H

#include <stdint.h>

/* Unpacks the layer in file `path` into dest_dir (an existing empty
 * directory the caller owns). Returns 0; LD_ECORRUPT for what is not a
 * readable tar; LD_ETOOBIG once more than max_bytes of file data were
 * written; LD_EUNSAFE for a name with "..", a hard link outside the layer,
 * or a path through a symlink; LD_EIO for file system errors. On failure
 * dest_dir may hold part of the layer: the caller removes it. *bytes (may
 * be NULL) gets the bytes written. */
int layer_extract(const char *path, const char *dest_dir, uint64_t max_bytes, uint64_t *bytes);

#endif
