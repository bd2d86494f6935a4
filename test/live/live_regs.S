/* live_regs.S: leaf probes for t_regs. Each one puts known values in some
 * registers (or the red zone), issues getpid with a `syscall` of its own
 * (a site in the executable, patched by libfi), and hands back what is
 * there afterwards. Only rax, rcx and r11 are the kernel's to change. */

        .text

/* unsigned live_probe_gprs(void): bit i set when GPR number i of the list
 * below changed across the syscall. */
        .globl  live_probe_gprs
        .type   live_probe_gprs, @function
live_probe_gprs:
        push    %rbx
        push    %rbp
        push    %r12
        push    %r13
        push    %r14
        push    %r15
        movabs  $0x1111111111111101, %rbx
        movabs  $0x2222222222222202, %rbp
        movabs  $0x3333333333333303, %rdx
        movabs  $0x4444444444444404, %rsi
        movabs  $0x5555555555555505, %rdi
        movabs  $0x6666666666666606, %r8
        movabs  $0x7777777777777707, %r9
        movabs  $0x8888888888888808, %r10
        movabs  $0x9999999999999909, %r12
        movabs  $0xaaaaaaaaaaaaaa0a, %r13
        movabs  $0xbbbbbbbbbbbbbb0b, %r14
        movabs  $0xcccccccccccccc0c, %r15
        mov     $39, %eax
        syscall
        xor     %eax, %eax
        .macro  CHECKREG reg, val, bit
        movabs  $\val, %rcx
        cmp     %rcx, \reg
        setne   %cl
        movzbl  %cl, %ecx
        shl     $\bit, %ecx
        or      %ecx, %eax
        .endm
        CHECKREG %rbx, 0x1111111111111101, 0
        CHECKREG %rbp, 0x2222222222222202, 1
        CHECKREG %rdx, 0x3333333333333303, 2
        CHECKREG %rsi, 0x4444444444444404, 3
        CHECKREG %rdi, 0x5555555555555505, 4
        CHECKREG %r8,  0x6666666666666606, 5
        CHECKREG %r9,  0x7777777777777707, 6
        CHECKREG %r10, 0x8888888888888808, 7
        CHECKREG %r12, 0x9999999999999909, 8
        CHECKREG %r13, 0xaaaaaaaaaaaaaa0a, 9
        CHECKREG %r14, 0xbbbbbbbbbbbbbb0b, 10
        CHECKREG %r15, 0xcccccccccccccc0c, 11
        pop     %r15
        pop     %r14
        pop     %r13
        pop     %r12
        pop     %rbp
        pop     %rbx
        ret
        .size   live_probe_gprs, .-live_probe_gprs

/* void live_probe_xmm(const void *in, void *out): xmm0-15 from in[256],
 * syscall, xmm0-15 to out[256]. */
        .globl  live_probe_xmm
        .type   live_probe_xmm, @function
live_probe_xmm:
        .irp    n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
        movdqu  16*\n(%rdi), %xmm\n
        .endr
        mov     $39, %eax
        syscall
        .irp    n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
        movdqu  %xmm\n, 16*\n(%rsi)
        .endr
        ret
        .size   live_probe_xmm, .-live_probe_xmm

/* void live_probe_ymm(const void *in, void *out): ymm0-15, 512 bytes. */
        .globl  live_probe_ymm
        .type   live_probe_ymm, @function
live_probe_ymm:
        .irp    n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
        vmovdqu 32*\n(%rdi), %ymm\n
        .endr
        mov     $39, %eax
        syscall
        .irp    n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
        vmovdqu %ymm\n, 32*\n(%rsi)
        .endr
        vzeroupper
        ret
        .size   live_probe_ymm, .-live_probe_ymm

/* void live_probe_zmm(const void *in, void *out, const void *kin, void *kout):
 * zmm0-31 (2048 bytes) and k1-k7 (16 bits each). AVX-512F only. */
        .globl  live_probe_zmm
        .type   live_probe_zmm, @function
live_probe_zmm:
        mov     %rcx, %r8               /* syscall clobbers rcx */
        .irp    n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        vmovdqu64 64*\n(%rdi), %zmm\n
        .endr
        .irp    n, 1,2,3,4,5,6,7
        kmovw   2*\n(%rdx), %k\n
        .endr
        mov     $39, %eax
        syscall
        .irp    n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        vmovdqu64 %zmm\n, 64*\n(%rsi)
        .endr
        .irp    n, 1,2,3,4,5,6,7
        kmovw   %k\n, 2*\n(%r8)
        .endr
        vzeroupper
        ret
        .size   live_probe_zmm, .-live_probe_zmm

/* unsigned long live_probe_flags(unsigned long set): sets the status flags
 * and DF given in `set` (mask 0xcd5), syscall, returns the same flags as
 * they are afterwards. DF is cleared again before returning. */
        .globl  live_probe_flags
        .type   live_probe_flags, @function
live_probe_flags:
        pushfq
        pop     %rax
        and     $~0xcd5, %rax
        and     $0xcd5, %rdi
        or      %rdi, %rax
        push    %rax
        mov     $39, %eax
        popfq
        syscall
        pushfq
        pop     %rax
        cld
        and     $0xcd5, %rax
        ret
        .size   live_probe_flags, .-live_probe_flags

/* void live_probe_fpctl(unsigned mxcsr, unsigned fcw, unsigned out[2]):
 * loads MXCSR and the x87 control word, syscall, stores both to out,
 * then puts the originals back. */
        .globl  live_probe_fpctl
        .type   live_probe_fpctl, @function
live_probe_fpctl:
        sub     $24, %rsp
        stmxcsr 16(%rsp)
        fnstcw  20(%rsp)
        mov     %edi, 0(%rsp)
        ldmxcsr 0(%rsp)
        mov     %si, 4(%rsp)
        fldcw   4(%rsp)
        mov     $39, %eax
        syscall
        stmxcsr 8(%rsp)
        fnstcw  12(%rsp)
        mov     8(%rsp), %eax
        mov     %eax, 0(%rdx)
        movzwl  12(%rsp), %eax
        mov     %eax, 4(%rdx)
        ldmxcsr 16(%rsp)
        fldcw   20(%rsp)
        add     $24, %rsp
        ret
        .size   live_probe_fpctl, .-live_probe_fpctl

/* unsigned live_probe_redzone(void): writes 16 values at -8..-128(%rsp)
 * (the red zone of this leaf), syscall, returns how many changed. */
        .globl  live_probe_redzone
        .type   live_probe_redzone, @function
live_probe_redzone:
        movabs  $0x5a5a5a5a00000000, %r8
        .irp    i, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16
        lea     \i(%r8), %rcx
        mov     %rcx, -8*\i(%rsp)
        .endr
        mov     $39, %eax
        syscall
        xor     %eax, %eax
        .irp    i, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16
        lea     \i(%r8), %rcx
        cmp     %rcx, -8*\i(%rsp)
        setne   %cl
        movzbl  %cl, %ecx
        add     %ecx, %eax
        .endr
        ret
        .size   live_probe_redzone, .-live_probe_redzone

        .section .note.GNU-stack, "", @progbits
