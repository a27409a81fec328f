/*
 * Test-only (test_c_qemu_shim.py): the same saves, frames and CRCs built
 * standalone and with -DVFG_QEMU against the test's stub QEMU headers; the
 * test compares the two outputs line for line. With VFG_QEMU it also prints
 * how often the stubs were called and what vfg_error_propagate recorded.
 */
#ifdef VFG_QEMU
#include "vfg_qemu.h"
#endif
#include "vfg_msi.h"

#include <stdio.h>

#ifdef VFG_QEMU
unsigned long stub_loads[9];
unsigned long stub_stores[9];
unsigned long stub_crc_calls;
char stub_error_message[256];
int stub_error_count;

/*
 * An independent CRC-32C: bit by bit, with QEMU's convention (the register
 * is taken as it is and returned inverted).
 */
uint32_t crc32c(uint32_t crc, const uint8_t *data, unsigned int length)
{
    unsigned int i;
    int bit;
    stub_crc_calls++;
    for (i = 0; i < length; i++) {
        crc ^= data[i];
        for (bit = 0; bit < 8; bit++) {
            crc = (crc & 1u) ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
        }
    }
    return crc ^ 0xffffffffu;
}
#endif

static void hex(const char *what, const uint8_t *b, size_t n)
{
    size_t i;
    printf("%s ", what);
    for (i = 0; i < n; i++) {
        printf("%02x", b[i]);
    }
    printf("\n");
}

static void report(const char *what, const struct vfg_error *err)
{
    printf("%s %s|%s|%zu|%s\n", what, err->section, err->field, err->offset,
           err->message);
#ifdef VFG_QEMU
    {
        Error *e = NULL;
        stub_error_count = 0;
        vfg_error_propagate(&e, err);
        printf("%s-qemu %d %s\n", what, e != NULL && stub_error_count == 1,
               stub_error_message);
    }
#endif
}

int main(void)
{
    static const char *const vectors[] = {
        "", "a", "123456789", "The quick brown fox jumps over the lazy dog",
    };
    uint8_t buf[64];
    uint8_t frame[VFG_FRAME_HEAD_SIZE + VFG_MSI_MAX_PAYLOAD + VFG_CRC_SIZE];
    struct vfg_msi_state s;
    struct vfg_msi_state back;
    struct vfg_frame f;
    struct vfg_error err;
    size_t len = 0;
    size_t i;
    int status;
    for (i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        const uint8_t *v = (const uint8_t *)vectors[i];
        size_t n = strlen(vectors[i]);
        printf("crc %08x %08x\n", (unsigned)vfg_crc32c(0u, v, n),
               (unsigned)vfg_crc32c(vfg_crc32c(0u, v, n / 2u), v + n / 2u,
                                    n - n / 2u));
    }
    vfg_put_be16(buf, 0x1234u);
    vfg_put_be32(buf + 2, 0x89abcdefu);
    vfg_put_be64(buf + 6, UINT64_C(0x0123456789abcdef));
    hex("be", buf, 14);
    printf("be-get %04x %08x %016llx\n", (unsigned)vfg_get_be16(buf),
           (unsigned)vfg_get_be32(buf + 2),
           (unsigned long long)vfg_get_be64(buf + 6));

    vfg_msi_init(&s);
    s.control = 0x0181u; /* enabled, 64-bit, per-vector masking */
    s.address_lo = 0xfee01004u;
    s.address_hi = 0x00000001u;
    s.data = 0x4041u;
    s.mask = 0x00000001u;
    s.pending = 0x00000000u;
    if (vfg_msi_save(&s, VFG_MSI_VERSION, NULL, frame + VFG_FRAME_HEAD_SIZE,
                     VFG_MSI_MAX_PAYLOAD, &len, &err) != VFG_OK) {
        report("save-error", &err);
        return 1;
    }
    hex("save", frame + VFG_FRAME_HEAD_SIZE, len);
    vfg_seal_frame(frame, VFG_MSI_SECTION_ID, VFG_MSI_VERSION, true,
                   (uint32_t)len);
    hex("frame", frame, VFG_FRAME_HEAD_SIZE + len + VFG_CRC_SIZE);
    printf("read %d\n", vfg_read_frame(frame, VFG_FRAME_HEAD_SIZE + len +
                                       VFG_CRC_SIZE, 0u, "msi", &f, &err));
    vfg_msi_init(&back);
    status = vfg_msi_load(&back, frame + f.start, f.end - f.start,
                          VFG_MSI_VERSION, NULL, &err);
    printf("load %d %04x %08x %08x %04x %08x %08x\n", status,
           (unsigned)back.control, (unsigned)back.address_lo,
           (unsigned)back.address_hi, (unsigned)back.data,
           (unsigned)back.mask, (unsigned)back.pending);

    frame[VFG_FRAME_HEAD_SIZE] ^= 0x01u;
    printf("corrupt %d\n", vfg_read_frame(frame, VFG_FRAME_HEAD_SIZE + len +
                                          VFG_CRC_SIZE, 0u, "msi", &f, &err));
    report("crc-error", &err);
    printf("truncated %d\n", vfg_msi_load(&back, frame + VFG_FRAME_HEAD_SIZE,
                                          3u, VFG_MSI_VERSION, NULL, &err));
    report("load-error", &err);
    /* An error of the blob's own structure names no field. */
    err.section = "example_nic";
    err.field[0] = '\0';
    err.offset = 7u;
    err.status = VFG_ERR_TRAILING;
    err.message = "bytes after the last section";
    report("blob-error", &err);
#ifdef VFG_QEMU
    {
        Error *e = NULL;
        err.status = VFG_OK;
        stub_error_count = 0;
        vfg_error_propagate(&e, &err);
        vfg_error_propagate(&e, NULL);
        printf("ok-qemu %d\n", e == NULL && stub_error_count == 0);
    }
    printf("stubs %d %d %d %d %d %d %d\n", stub_loads[2] > 0u,
           stub_loads[4] > 0u, stub_loads[8] > 0u, stub_stores[2] > 0u,
           stub_stores[4] > 0u, stub_stores[8] > 0u, stub_crc_calls > 0u);
#endif
    return 0;
}
