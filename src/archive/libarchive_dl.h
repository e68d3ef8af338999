/*
 * libarchive, loaded when the first archive is built or read.
 *
 * crunner run never touches an archive itself (the artifacts-helper
 * process does), yet linking libarchive maps it and what it needs
 * (libxml2, ICU, libstdc++, lzma, bzip2, lz4, acl) into every process:
 * 3 MiB of the idle runner's resident memory and 80 of its mappings,
 * which every fork() for a job's script copies.  zip.c and gzip.c include
 * this header after <archive.h>, call libarchive_dl_load() at their entry
 * points and then use the archive_* names as usual: the macros below send
 * each call through the table filled by dlsym().
 *
 * Only with CR_LAZY_LIBARCHIVE (cmake -DCR_LAZY_LIBARCHIVE=ON): then
 * nothing in crunner refers to libarchive, and the binary, linked with
 * --as-needed, does not list it in DT_NEEDED.  Off by default because the
 * Docker helper image (scripts/build-helper-image.sh) carries the
 * libraries ldd lists for crunner, and would then lack libarchive.
 * Without it, libarchive_dl_load() does nothing and the calls are direct.
 */
#ifndef CR_LIBARCHIVE_DL_H
#define CR_LIBARCHIVE_DL_H

#include <archive.h>
#include <archive_entry.h>

#include "util/buf.h"

/* The libarchive functions crunner uses: X(name). */
#define LIBARCHIVE_DL_FUNCTIONS(X) \
	X(archive_entry_clear) \
	X(archive_entry_copy_stat) \
	X(archive_entry_filetype) \
	X(archive_entry_free) \
	X(archive_entry_hardlink) \
	X(archive_entry_mtime) \
	X(archive_entry_mtime_is_set) \
	X(archive_entry_mtime_nsec) \
	X(archive_entry_new) \
	X(archive_entry_pathname) \
	X(archive_entry_perm) \
	X(archive_entry_set_filetype) \
	X(archive_entry_set_pathname) \
	X(archive_entry_set_pathname_utf8) \
	X(archive_entry_set_perm) \
	X(archive_entry_set_size) \
	X(archive_entry_set_symlink_utf8) \
	X(archive_entry_size) \
	X(archive_entry_size_is_set) \
	X(archive_entry_symlink) \
	X(archive_errno) \
	X(archive_error_string) \
	X(archive_read_data_block) \
	X(archive_read_data_skip) \
	X(archive_read_free) \
	X(archive_read_new) \
	X(archive_read_next_header) \
	X(archive_read_open_filename) \
	X(archive_read_support_format_zip_seekable) \
	X(archive_write_add_filter_gzip) \
	X(archive_write_close) \
	X(archive_write_data) \
	X(archive_write_free) \
	X(archive_write_header) \
	X(archive_write_new) \
	X(archive_write_open) \
	X(archive_write_open_filename) \
	X(archive_write_set_bytes_per_block) \
	X(archive_write_set_format_option) \
	X(archive_write_set_format_raw) \
	X(archive_write_set_format_zip) \
	X(archive_read_support_filter_zstd) \
	X(archive_read_support_format_tar) \
	X(archive_write_add_filter_zstd) \
	X(archive_write_set_filter_option) \
	X(archive_write_set_format_pax_restricted)

/* Pointers with exactly the declared types, read-only once filled. */
struct libarchive_dl {
#define LIBARCHIVE_DL_MEMBER(name) __typeof__(name) *name;
	LIBARCHIVE_DL_FUNCTIONS(LIBARCHIVE_DL_MEMBER)
#undef LIBARCHIVE_DL_MEMBER
};

/*
 * Loads libarchive and every function of the list, once per process.
 * Returns 0, or CR_ERR_UNSUPPORTED with one sentence in err (the library
 * or a function is missing); later calls return the same.
 */
int libarchive_dl_load(struct buf *err);

/* The table; valid after libarchive_dl_load() returned 0. */
extern const struct libarchive_dl *libarchive_dl;

#if defined(CR_LAZY_LIBARCHIVE) && !defined(LIBARCHIVE_DL_IMPL)
#define archive_entry_clear (libarchive_dl->archive_entry_clear)
#define archive_entry_copy_stat (libarchive_dl->archive_entry_copy_stat)
#define archive_entry_filetype (libarchive_dl->archive_entry_filetype)
#define archive_entry_free (libarchive_dl->archive_entry_free)
#define archive_entry_hardlink (libarchive_dl->archive_entry_hardlink)
#define archive_entry_mtime (libarchive_dl->archive_entry_mtime)
#define archive_entry_mtime_is_set (libarchive_dl->archive_entry_mtime_is_set)
#define archive_entry_mtime_nsec (libarchive_dl->archive_entry_mtime_nsec)
#define archive_entry_new (libarchive_dl->archive_entry_new)
#define archive_entry_pathname (libarchive_dl->archive_entry_pathname)
#define archive_entry_perm (libarchive_dl->archive_entry_perm)
#define archive_entry_set_filetype (libarchive_dl->archive_entry_set_filetype)
#define archive_entry_set_pathname (libarchive_dl->archive_entry_set_pathname)
#define archive_entry_set_pathname_utf8 \
	(libarchive_dl->archive_entry_set_pathname_utf8)
#define archive_entry_set_perm (libarchive_dl->archive_entry_set_perm)
#define archive_entry_set_size (libarchive_dl->archive_entry_set_size)
#define archive_entry_set_symlink_utf8 \
	(libarchive_dl->archive_entry_set_symlink_utf8)
#define archive_entry_size (libarchive_dl->archive_entry_size)
#define archive_entry_size_is_set (libarchive_dl->archive_entry_size_is_set)
#define archive_entry_symlink (libarchive_dl->archive_entry_symlink)
#define archive_errno (libarchive_dl->archive_errno)
#define archive_error_string (libarchive_dl->archive_error_string)
#define archive_read_data_block (libarchive_dl->archive_read_data_block)
#define archive_read_data_skip (libarchive_dl->archive_read_data_skip)
#define archive_read_free (libarchive_dl->archive_read_free)
#define archive_read_new (libarchive_dl->archive_read_new)
#define archive_read_next_header (libarchive_dl->archive_read_next_header)
#define archive_read_open_filename (libarchive_dl->archive_read_open_filename)
#define archive_read_support_format_zip_seekable \
	(libarchive_dl->archive_read_support_format_zip_seekable)
#define archive_write_add_filter_gzip \
	(libarchive_dl->archive_write_add_filter_gzip)
#define archive_write_close (libarchive_dl->archive_write_close)
#define archive_write_data (libarchive_dl->archive_write_data)
#define archive_write_free (libarchive_dl->archive_write_free)
#define archive_write_header (libarchive_dl->archive_write_header)
#define archive_write_new (libarchive_dl->archive_write_new)
#define archive_write_open (libarchive_dl->archive_write_open)
#define archive_write_open_filename \
	(libarchive_dl->archive_write_open_filename)
#define archive_write_set_bytes_per_block \
	(libarchive_dl->archive_write_set_bytes_per_block)
#define archive_write_set_format_option \
	(libarchive_dl->archive_write_set_format_option)
#define archive_write_set_format_raw \
	(libarchive_dl->archive_write_set_format_raw)
#define archive_write_set_format_zip \
	(libarchive_dl->archive_write_set_format_zip)
#define archive_read_support_filter_zstd \
	(libarchive_dl->archive_read_support_filter_zstd)
#define archive_read_support_format_tar \
	(libarchive_dl->archive_read_support_format_tar)
#define archive_write_add_filter_zstd \
	(libarchive_dl->archive_write_add_filter_zstd)
#define archive_write_set_filter_option \
	(libarchive_dl->archive_write_set_filter_option)
#define archive_write_set_format_pax_restricted \
	(libarchive_dl->archive_write_set_format_pax_restricted)
#endif

#endif
