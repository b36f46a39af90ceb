# gdb settings for tinyvmm guests: `gdb -x scripts/tinyvmm.gdb guest/guest.elf`.
# With the dual register layout (--gdb-arch dual, the default for multiboot
# guests) gdb can show 32- or 64-bit code; this hook picks the view from
# the vCPU's mode at every stop (EFER.LMA: long mode), so `x/i $pc`,
# `info registers` and backtraces follow the guest's own switch to long mode.
# No thread (the guest exited, or was killed): nothing to look at.
define hook-stop
  if $_thread != 0
    if ($efer & 0x400) && !$_streq($_gdb_setting_str("architecture"), "i386:x86-64")
      set architecture i386:x86-64
    end
    if !($efer & 0x400) && !$_streq($_gdb_setting_str("architecture"), "i386")
      set architecture i386
    end
  end
end
