/* The sync of an overlayfs upper layer into its lower (host) directory: what makes a write
 * buffer's changes real on the host when the container is destroyed.
 *
 * The upper layer must be quiescent (its file system read-only, no overlay writing into it) and
 * must come from an overlay mounted with redirect_dir=nofollow,metacopy=off,index=off,xino=off,
 * so that it holds only plain files, directories, symlinks, whiteouts and opaque marks.
 *
 * Two phases. Phase 1 writes every new or changed file, symlink and replaced directory into a
 * private (0700) staging directory SC_OVERLAY_SYNC_STAGING in the lower root and flushes it with
 * one syncfs: nothing visible on the host has changed yet, and a full disk fails here. Phase 2
 * renames the staged entries into place (renameat2 RENAME_EXCHANGE where a directory replaces
 * something or something replaces a directory), applies whiteouts (deletions) and then the
 * metadata of merged directories, flushes again and removes the staging directory with what it
 * replaced. So a host file is at any moment either its old or its new version, never a torn mix.
 *
 * Host side: everything is reached from the descriptor of the lower directory with openat
 * (O_NOFOLLOW) and fstatat (AT_SYMLINK_NOFOLLOW): no symlink on the host is followed and no mount
 * is crossed (a host directory that is another mount stops the sync with an error). Nothing is
 * written outside the lower directory. Upper side (written by the app, trusted for nothing):
 * FIFOs, sockets and device nodes are skipped and logged; setuid and setgid bits are stripped;
 * of the extended attributes only user.* and POSIX ACLs are copied (trusted.overlay.* and
 * security.* are dropped); hard links become separate copies; a tree deeper than
 * SC_OVERLAY_SYNC_MAX_DEPTH directories fails the sync.
 *
 * A failed sync changes what it changed so far and nothing else; running it again from the same
 * upper layer completes it (every step is idempotent). */
#pragma once

#include <glib.h>

/* Reserved name in the lower root: the staging directory. A leftover of an interrupted sync is
 * removed by the next sync of that directory; an entry of this name in the upper root is
 * skipped with a warning. */
#define SC_OVERLAY_SYNC_STAGING ".sc-writebuffer-sync"
#define SC_OVERLAY_SYNC_MAX_DEPTH 256

typedef struct
{
  guint64 files;     /* regular files written */
  guint64 symlinks;  /* symlinks written */
  guint64 dirs;      /* directories created or whose metadata was applied */
  guint64 deletions; /* whiteouts applied (entries removed from the host) */
  guint64 skipped;   /* FIFOs, sockets, device nodes */
  guint64 bytes;     /* file data copied */
} ScOverlaySyncStats;

/* Syncs the upper directory (an fd open O_RDONLY|O_DIRECTORY) into the lower one (likewise).
 * lower_path names the lower directory in messages. stats may be NULL. Errors are
 * SC_ERROR_SYSTEM "<host path>: <what failed>: <strerror>". */
gboolean sc_overlay_sync (int upper_fd, int lower_fd, const char *lower_path,
                          ScOverlaySyncStats *stats, GError **error);
