;; The run finders of a binary body (text-runs.ts, decoders.ts' printable runs) in WebAssembly
;; with 128-bit SIMD: the source of the bytes embedded in run-finder-wasm.ts, assembled by
;; `node scripts/gen-wasm.mjs` (WebAssembly text format, assembled with wabt).
;;
;; Why: speed. A JavaScript loop over a 64 KiB body's bytes costs ≈ 49 µs, three quarters of the
;; 65 µs that 1 GB/s allows (issue 36), before the runs are scanned at all. Here sixteen bytes are
;; classified per step and the runs are looked for in bit words (≈ 11 µs per random 64 KiB).
;;
;; Memory: the lookup tables at 0 (T1, T2, T3: 16 bytes each) and 64 (LEAD: 256 bytes); the body
;; at 1024, followed by at least 96 zero bytes; at `g` (8-aligned) one i64 word per 64 positions
;; plus two; at `out` the runs' bounds as i32 pairs (start, end); `damage` writes one byte per 64
;; positions at `d`. 48 pages (3 MiB), never grown
;; (run-finder-wasm.ts says why); the caller checks that a call fits.
;;
;; Both finders have the same shape and return the number of runs:
;;  1. A word of "good" bits per 64 positions, sixteen at a time: for the printable runs, bit p
;;     says that byte p is printable ASCII or a tab; for the UTF-8 runs, that the byte pair
;;     (p, p + 1) is not one of the two ill-formed kinds that fill random bytes (an ASCII byte
;;     then a continuation byte; a byte ≥ 0xc0 then a byte that is not a continuation).
;;  2. `windows`: bit p of word j becomes the AND of the good bits p … p + k − 1 (k = min − 1
;;     pairs, or min bytes), by doubling with the next word's bits funnelled in; starts past
;;     n − min are cleared. A set bit is a start where a run of `min` bytes may begin.
;;  3. From i = 0: the next set bit p ≥ i; the run is read forward from p byte by byte (UTF-8:
;;     whole sequences, exactly as text-runs.ts reads them, with the tables below; printable:
;;     while printable); a run of at least `min` bytes is written out; i = e + 1.
;;
;; Why the same runs as the JavaScript walk, which takes for p the least start ≥ i whose window
;; of pairs is well formed by its exact table (PAIR_OK): every pair step 1 calls bad is ill formed
;; there too, so the starts here include all of its starts, and maybe more. A start p here that
;; is not one there reads fewer than `min` bytes (the bytes a forward read passes hold only
;; well-formed pairs, so a read of `min` bytes would make p a start there too): nothing is written,
;; and the walk goes on from e + 1. The JavaScript walk writes nothing from a start in p … e
;; either (from a sequence boundary there it reads to the same e, from a continuation byte or
;; from e itself not at all), so it too goes on from e + 1 or past it with nothing written: both
;; walks write the same runs. For the printable runs the good bits are exact.
;;
;; The forward read's pair test (a lead byte and its second byte), with three 16-entry tables
;; indexed by nibbles: x = the lead, y = the next byte; ill formed when
;; T1[x >> 4] & T2[x & 15] & T3[y >> 4] is not 0. One bit per kind of error:
;;   1 a lead byte not followed by a continuation      (x C_–F_,  y 0_–7_ or C_–F_)
;;   2 an ASCII byte followed by a continuation        (x 0_–7_,  y 8_–B_)
;;   4 C0, C1 (never used)                             (x C0, C1, any y)
;;   8 F5–FF (never used)                              (x F5–FF,  any y)
;;  16 E0 then 80–9F (overlong)      32 ED then A0–BF (surrogate)
;;  64 F0 then 80–8F (overlong)     128 F4 then 90–BF (past U+10FFFF)
;; The generator checks the tables against the byte-pair rule for all 65,536 pairs (every pair is
;; decided as PAIR_OK decides it, but for a never-used second byte after a non-lead, which the
;; read meets as the next sequence's lead).
(module
  (memory (export "memory") 48)
  ;; T1 by the high nibble of x, T2 by its low nibble, T3 by the high nibble of y (the forward read).
  (data (i32.const 0) "\02\02\02\02\02\02\02\02\00\00\00\00\05\01\31\c9")
  (data (i32.const 16) "\57\07\03\03\83\0b\0b\0b\0b\0b\0b\0b\0b\2b\0b\0b")
  (data (i32.const 32) "\0d\0d\0d\0d\0d\0d\0d\0d\5e\9e\ae\ae\0d\0d\0d\0d")
  ;; LEAD[b]: the length of the sequence lead byte b starts (1 ASCII, 0 never a lead).
  (data (i32.const 64) "\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01\01")
  (data (i32.const 192) "\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00")
  (data (i32.const 256) "\00\00\02\02\02\02\02\02\02\02\02\02\02\02\02\02\02\02\02\02\02\02\02\02\02\02\02\02\02\02\02\02\03\03\03\03\03\03\03\03\03\03\03\03\03\03\03\03\04\04\04\04\04\00\00\00\00\00\00\00\00\00\00\00")

  ;; Step 2 over the words at g: words 0 … words − 1 become the window bits; words `words` and
  ;; `words` + 1 must be 0. Two words at a time (i64x2): x holds words j, j + 1 and y words j + 1,
  ;; j + 2, so each lane funnels its next word's low bits in. k ≤ 32: at most five doubling steps
  ;; of s1 … s5 bits (1, 2, 4, 8, 16 at most), the amounts worked out once; the steps stop at the
  ;; first of 0 bits, or once x has no bit left (most words of random bytes after three steps).
  ;; Then the starts at or past `limit` are cleared.
  (func $windows (param $g i32) (param $words i32) (param $k i32) (param $limit i32)
    (local $j i32) (local $at i32) (local $have i32) (local $x v128) (local $y v128)
    (local $s1 i32) (local $s2 i32) (local $s3 i32) (local $s4 i32) (local $s5 i32)
    i32.const 1
    local.set $have
    ;; s1 = min(have, k − have), or 0 once have ≥ k
    local.get $have
    local.get $k
    local.get $have
    i32.sub
    local.tee $s1
    local.get $have
    local.get $s1
    i32.lt_u
    select
    i32.const 0
    local.get $have
    local.get $k
    i32.lt_u
    select
    local.tee $s1
    local.get $have
    i32.add
    local.set $have
    ;; s2 = min(have, k − have), or 0 once have ≥ k
    local.get $have
    local.get $k
    local.get $have
    i32.sub
    local.tee $s2
    local.get $have
    local.get $s2
    i32.lt_u
    select
    i32.const 0
    local.get $have
    local.get $k
    i32.lt_u
    select
    local.tee $s2
    local.get $have
    i32.add
    local.set $have
    ;; s3 = min(have, k − have), or 0 once have ≥ k
    local.get $have
    local.get $k
    local.get $have
    i32.sub
    local.tee $s3
    local.get $have
    local.get $s3
    i32.lt_u
    select
    i32.const 0
    local.get $have
    local.get $k
    i32.lt_u
    select
    local.tee $s3
    local.get $have
    i32.add
    local.set $have
    ;; s4 = min(have, k − have), or 0 once have ≥ k
    local.get $have
    local.get $k
    local.get $have
    i32.sub
    local.tee $s4
    local.get $have
    local.get $s4
    i32.lt_u
    select
    i32.const 0
    local.get $have
    local.get $k
    i32.lt_u
    select
    local.tee $s4
    local.get $have
    i32.add
    local.set $have
    ;; s5 = min(have, k − have), or 0 once have ≥ k
    local.get $have
    local.get $k
    local.get $have
    i32.sub
    local.tee $s5
    local.get $have
    local.get $s5
    i32.lt_u
    select
    i32.const 0
    local.get $have
    local.get $k
    i32.lt_u
    select
    local.tee $s5
    local.get $have
    i32.add
    local.set $have
    block $done
      loop $each
        local.get $j
        local.get $words
        i32.ge_u
        br_if $done
        local.get $g
        local.get $j
        i32.const 3
        i32.shl
        i32.add
        local.tee $at
        v128.load offset=0 align=1
        local.set $x
        local.get $at
        v128.load offset=8 align=1
        local.set $y
        local.get $k
        i32.eqz
        if
          v128.const i8x16 255 255 255 255 255 255 255 255 255 255 255 255 255 255 255 255
          local.set $x
        else
          ;; x &= x >> s | y << (64 − s); y &= y >> s, for s = s1 … s5
          block $stepped
          ;; doubling 1: skipped when it is of 0 bits or no start is left
          local.get $s1
          i32.eqz
          br_if $stepped
          local.get $x
          v128.any_true
          i32.eqz
          br_if $stepped
          local.get $x
          local.get $x
          local.get $s1
          i64x2.shr_u
          local.get $y
          i32.const 64
          local.get $s1
          i32.sub
          i64x2.shl
          v128.or
          v128.and
          local.set $x
          local.get $y
          local.get $y
          local.get $s1
          i64x2.shr_u
          v128.and
          local.set $y
          ;; doubling 2: skipped when it is of 0 bits or no start is left
          local.get $s2
          i32.eqz
          br_if $stepped
          local.get $x
          v128.any_true
          i32.eqz
          br_if $stepped
          local.get $x
          local.get $x
          local.get $s2
          i64x2.shr_u
          local.get $y
          i32.const 64
          local.get $s2
          i32.sub
          i64x2.shl
          v128.or
          v128.and
          local.set $x
          local.get $y
          local.get $y
          local.get $s2
          i64x2.shr_u
          v128.and
          local.set $y
          ;; doubling 3: skipped when it is of 0 bits or no start is left
          local.get $s3
          i32.eqz
          br_if $stepped
          local.get $x
          v128.any_true
          i32.eqz
          br_if $stepped
          local.get $x
          local.get $x
          local.get $s3
          i64x2.shr_u
          local.get $y
          i32.const 64
          local.get $s3
          i32.sub
          i64x2.shl
          v128.or
          v128.and
          local.set $x
          local.get $y
          local.get $y
          local.get $s3
          i64x2.shr_u
          v128.and
          local.set $y
          ;; doubling 4: skipped when it is of 0 bits or no start is left
          local.get $s4
          i32.eqz
          br_if $stepped
          local.get $x
          v128.any_true
          i32.eqz
          br_if $stepped
          local.get $x
          local.get $x
          local.get $s4
          i64x2.shr_u
          local.get $y
          i32.const 64
          local.get $s4
          i32.sub
          i64x2.shl
          v128.or
          v128.and
          local.set $x
          local.get $y
          local.get $y
          local.get $s4
          i64x2.shr_u
          v128.and
          local.set $y
          ;; doubling 5: skipped when it is of 0 bits or no start is left
          local.get $s5
          i32.eqz
          br_if $stepped
          local.get $x
          v128.any_true
          i32.eqz
          br_if $stepped
          local.get $x
          local.get $x
          local.get $s5
          i64x2.shr_u
          local.get $y
          i32.const 64
          local.get $s5
          i32.sub
          i64x2.shl
          v128.or
          v128.and
          local.set $x
          local.get $y
          local.get $y
          local.get $s5
          i64x2.shr_u
          v128.and
          local.set $y
          end
        end
        local.get $at
        local.get $x
        v128.store offset=0 align=1
        local.get $j
        i32.const 2
        i32.add
        local.set $j
        br $each
      end
    end
    ;; the word holding `limit` keeps its bits below it; the words after it are cleared
    local.get $limit
    i32.const 6
    i32.shr_u
    local.set $j
    local.get $limit
    i32.const 63
    i32.and
    if
      local.get $g
      local.get $j
      i32.const 3
      i32.shl
      i32.add
      local.tee $at
      local.get $at
      i64.load offset=0 align=8
      i64.const 1
      local.get $limit
      i64.extend_i32_u
      i64.shl
      i64.const 1
      i64.sub
      i64.and
      i64.store offset=0 align=8
      local.get $j
      i32.const 1
      i32.add
      local.set $j
    end
    block $cleared
      loop $clear
        local.get $j
        local.get $words
        i32.ge_u
        br_if $cleared
        local.get $g
        local.get $j
        i32.const 3
        i32.shl
        i32.add
        i64.const 0
        i64.store offset=0 align=8
        local.get $j
        i32.const 1
        i32.add
        local.set $j
        br $clear
      end
    end
  )

  ;; The first set window bit at or after i, or −1.
  (func $next (param $g i32) (param $words i32) (param $i i32) (result i32)
    (local $j i32) (local $w i64)
    local.get $i
    i32.const 6
    i32.shr_u
    local.tee $j
    local.get $words
    i32.ge_u
    if
      i32.const -1
      return
    end
    local.get $g
    local.get $j
    i32.const 3
    i32.shl
    i32.add
    i64.load offset=0 align=8
    i64.const -1
    local.get $i
    i64.extend_i32_u
    i64.shl
    i64.and
    local.set $w
    block $found
      loop $scan
        local.get $w
        i64.eqz
        i32.eqz
        br_if $found
        local.get $j
        i32.const 1
        i32.add
        local.tee $j
        local.get $words
        i32.ge_u
        if
          i32.const -1
          return
        end
        local.get $g
        local.get $j
        i32.const 3
        i32.shl
        i32.add
        i64.load offset=0 align=8
        local.set $w
        br $scan
      end
    end
    local.get $j
    i32.const 6
    i32.shl
    local.get $w
    i64.ctz
    i32.wrap_i64
    i32.add
  )

  ;; The end of the well-formed sequences read from p (text-runs.ts' forward read).
  (func $read (param $p i32) (param $n i32) (result i32)
    (local $e i32) (local $c i32) (local $len i32)
    local.get $p
    local.set $e
    block $stop
      loop $seq
        local.get $e
        local.get $n
        i32.ge_u
        br_if $stop
        local.get $e
        i32.load8_u offset=1024 align=1
        local.tee $c
        i32.const 128
        i32.lt_u
        if
          local.get $e
          i32.const 1
          i32.add
          local.set $e
          br $seq
        end
        local.get $c
        i32.load8_u offset=64 align=1
        local.tee $len
        i32.eqz
        br_if $stop
        local.get $e
        local.get $len
        i32.add
        local.get $n
        i32.gt_u
        br_if $stop
        ;; the pair (c, second byte): T1[c >> 4] & T2[c & 15] & T3[second >> 4]
        local.get $c
        i32.const 4
        i32.shr_u
        i32.load8_u offset=0 align=1
        local.get $c
        i32.const 15
        i32.and
        i32.load8_u offset=16 align=1
        i32.and
        local.get $e
        i32.load8_u offset=1025 align=1
        i32.const 4
        i32.shr_u
        i32.load8_u offset=32 align=1
        i32.and
        br_if $stop
        local.get $len
        i32.const 2
        i32.gt_u
        if
          local.get $e
          i32.load8_u offset=1026 align=1
          i32.const 192
          i32.and
          i32.const 128
          i32.ne
          br_if $stop
        end
        local.get $len
        i32.const 3
        i32.gt_u
        if
          local.get $e
          i32.load8_u offset=1027 align=1
          i32.const 192
          i32.and
          i32.const 128
          i32.ne
          br_if $stop
        end
        local.get $e
        local.get $len
        i32.add
        local.set $e
        br $seq
      end
    end
    local.get $e
  )

  ;; The UTF-8 text runs of the n bytes at 1024 of at least `min` (1 … 32) bytes; their count.
  (func $utf8_runs (export "utf8_runs") (param $n i32) (param $min i32) (param $g i32) (param $out i32) (result i32)
    (local $words i32) (local $j i32) (local $q i32) (local $i i32) (local $p i32) (local $e i32) (local $count i32) (local $c i32)
    (local $v v128) (local $cont v128) (local $contmask v128) (local $contbits v128) (local $above v128) (local $zero v128)
    v128.const i8x16 192 192 192 192 192 192 192 192 192 192 192 192 192 192 192 192
    local.set $contmask
    v128.const i8x16 128 128 128 128 128 128 128 128 128 128 128 128 128 128 128 128
    local.set $contbits
    v128.const i8x16 191 191 191 191 191 191 191 191 191 191 191 191 191 191 191 191
    local.set $above
    local.get $n
    local.get $min
    i32.lt_u
    if
      i32.const 0
      return
    end
    local.get $n
    i32.const 63
    i32.add
    i32.const 6
    i32.shr_u
    local.set $words
    ;; step 1: a word of good bits per 64 positions
    block $done
      loop $each
        local.get $j
        local.get $words
        i32.ge_u
        br_if $done
        local.get $j
        i32.const 6
        i32.shl
        i32.const 1024
        i32.add
        local.set $q
        local.get $g
        local.get $j
        i32.const 3
        i32.shl
        i32.add
        ;; pairs 0 … 15: bad where (x < 0x80 and y a continuation) or (x ≥ 0xc0 and y not one)
        local.get $q
        v128.load offset=1 align=1
        local.get $contmask
        v128.and
        local.get $contbits
        i8x16.eq
        local.tee $cont
        local.get $zero
        local.get $q
        v128.load offset=0 align=1
        local.tee $v
        i8x16.gt_s
        v128.andnot
        local.get $v
        local.get $above
        i8x16.gt_u
        local.get $cont
        v128.andnot
        v128.or
        i8x16.bitmask
        i64.extend_i32_u
        ;; pairs 16 … 31: bad where (x < 0x80 and y a continuation) or (x ≥ 0xc0 and y not one)
        local.get $q
        v128.load offset=17 align=1
        local.get $contmask
        v128.and
        local.get $contbits
        i8x16.eq
        local.tee $cont
        local.get $zero
        local.get $q
        v128.load offset=16 align=1
        local.tee $v
        i8x16.gt_s
        v128.andnot
        local.get $v
        local.get $above
        i8x16.gt_u
        local.get $cont
        v128.andnot
        v128.or
        i8x16.bitmask
        i64.extend_i32_u
        i64.const 16
        i64.shl
        i64.or
        ;; pairs 32 … 47: bad where (x < 0x80 and y a continuation) or (x ≥ 0xc0 and y not one)
        local.get $q
        v128.load offset=33 align=1
        local.get $contmask
        v128.and
        local.get $contbits
        i8x16.eq
        local.tee $cont
        local.get $zero
        local.get $q
        v128.load offset=32 align=1
        local.tee $v
        i8x16.gt_s
        v128.andnot
        local.get $v
        local.get $above
        i8x16.gt_u
        local.get $cont
        v128.andnot
        v128.or
        i8x16.bitmask
        i64.extend_i32_u
        i64.const 32
        i64.shl
        i64.or
        ;; pairs 48 … 63: bad where (x < 0x80 and y a continuation) or (x ≥ 0xc0 and y not one)
        local.get $q
        v128.load offset=49 align=1
        local.get $contmask
        v128.and
        local.get $contbits
        i8x16.eq
        local.tee $cont
        local.get $zero
        local.get $q
        v128.load offset=48 align=1
        local.tee $v
        i8x16.gt_s
        v128.andnot
        local.get $v
        local.get $above
        i8x16.gt_u
        local.get $cont
        v128.andnot
        v128.or
        i8x16.bitmask
        i64.extend_i32_u
        i64.const 48
        i64.shl
        i64.or
        ;; good = not bad
        i64.const -1
        i64.xor
        i64.store offset=0 align=8
        local.get $j
        i32.const 1
        i32.add
        local.set $j
        br $each
      end
    end
    ;; two zero words after the last
    local.get $g
    local.get $words
    i32.const 3
    i32.shl
    i32.add
    local.tee $q
    i64.const 0
    i64.store offset=0 align=8
    local.get $q
    i64.const 0
    i64.store offset=8 align=8
    ;; step 2
    local.get $g
    local.get $words
    local.get $min
    i32.const 1
    i32.sub
    local.get $n
    local.get $min
    i32.sub
    i32.const 1
    i32.add
    call $windows
    ;; step 3
    block $end
      loop $runs
        local.get $g
        local.get $words
        local.get $i
        call $next
        local.tee $p
        i32.const 0
        i32.lt_s
        br_if $end
        local.get $p
        local.get $n
        call $read
        local.set $e
        local.get $e
        local.get $p
        i32.sub
        local.get $min
        i32.ge_u
        if
          local.get $out
          local.get $count
          i32.const 3
          i32.shl
          i32.add
          local.tee $q
          local.get $p
          i32.store offset=0 align=4
          local.get $q
          local.get $e
          i32.store offset=4 align=4
          local.get $count
          i32.const 1
          i32.add
          local.set $count
        end
        local.get $e
        i32.const 1
        i32.add
        local.set $i
        br $runs
      end
    end
    local.get $count
  )

  ;; The runs of printable ASCII and tab among the n bytes at 1024 of at least `min` (1 … 32) bytes; their count.
  (func $printable_runs (export "printable_runs") (param $n i32) (param $min i32) (param $g i32) (param $out i32) (result i32)
    (local $words i32) (local $j i32) (local $q i32) (local $i i32) (local $p i32) (local $e i32) (local $count i32) (local $c i32)
    (local $v v128) (local $space v128) (local $printable v128) (local $tab v128)
    v128.const i8x16 32 32 32 32 32 32 32 32 32 32 32 32 32 32 32 32
    local.set $space
    v128.const i8x16 95 95 95 95 95 95 95 95 95 95 95 95 95 95 95 95
    local.set $printable
    v128.const i8x16 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9
    local.set $tab
    local.get $n
    local.get $min
    i32.lt_u
    if
      i32.const 0
      return
    end
    local.get $n
    i32.const 63
    i32.add
    i32.const 6
    i32.shr_u
    local.set $words
    ;; step 1: a word of good bits per 64 positions
    block $done
      loop $each
        local.get $j
        local.get $words
        i32.ge_u
        br_if $done
        local.get $j
        i32.const 6
        i32.shl
        i32.const 1024
        i32.add
        local.set $q
        local.get $g
        local.get $j
        i32.const 3
        i32.shl
        i32.add
        ;; bytes 0 … 15: (b − 0x20) <u 0x5f, or b = tab
        local.get $q
        v128.load offset=0 align=1
        local.tee $v
        local.get $space
        i8x16.sub
        local.get $printable
        i8x16.lt_u
        local.get $v
        local.get $tab
        i8x16.eq
        v128.or
        i8x16.bitmask
        i64.extend_i32_u
        ;; bytes 16 … 31: (b − 0x20) <u 0x5f, or b = tab
        local.get $q
        v128.load offset=16 align=1
        local.tee $v
        local.get $space
        i8x16.sub
        local.get $printable
        i8x16.lt_u
        local.get $v
        local.get $tab
        i8x16.eq
        v128.or
        i8x16.bitmask
        i64.extend_i32_u
        i64.const 16
        i64.shl
        i64.or
        ;; bytes 32 … 47: (b − 0x20) <u 0x5f, or b = tab
        local.get $q
        v128.load offset=32 align=1
        local.tee $v
        local.get $space
        i8x16.sub
        local.get $printable
        i8x16.lt_u
        local.get $v
        local.get $tab
        i8x16.eq
        v128.or
        i8x16.bitmask
        i64.extend_i32_u
        i64.const 32
        i64.shl
        i64.or
        ;; bytes 48 … 63: (b − 0x20) <u 0x5f, or b = tab
        local.get $q
        v128.load offset=48 align=1
        local.tee $v
        local.get $space
        i8x16.sub
        local.get $printable
        i8x16.lt_u
        local.get $v
        local.get $tab
        i8x16.eq
        v128.or
        i8x16.bitmask
        i64.extend_i32_u
        i64.const 48
        i64.shl
        i64.or

        i64.store offset=0 align=8
        local.get $j
        i32.const 1
        i32.add
        local.set $j
        br $each
      end
    end
    ;; two zero words after the last
    local.get $g
    local.get $words
    i32.const 3
    i32.shl
    i32.add
    local.tee $q
    i64.const 0
    i64.store offset=0 align=8
    local.get $q
    i64.const 0
    i64.store offset=8 align=8
    ;; step 2
    local.get $g
    local.get $words
    local.get $min
    local.get $n
    local.get $min
    i32.sub
    i32.const 1
    i32.add
    call $windows
    ;; step 3
    block $end
      loop $runs
        local.get $g
        local.get $words
        local.get $i
        call $next
        local.tee $p
        i32.const 0
        i32.lt_s
        br_if $end
        ;; e = p + min, then on while printable
        local.get $p
        local.get $min
        i32.add
        local.set $e
        block $stop
          loop $more
            local.get $e
            local.get $n
            i32.ge_u
            br_if $stop
            local.get $e
            i32.load8_u offset=1024 align=1
            local.tee $c
            i32.const 9
            i32.eq
            local.get $c
            i32.const 32
            i32.sub
            i32.const 95
            i32.lt_u
            i32.or
            i32.eqz
            br_if $stop
            local.get $e
            i32.const 1
            i32.add
            local.set $e
            br $more
          end
        end
        local.get $out
        local.get $count
        i32.const 3
        i32.shl
        i32.add
        local.tee $q
        local.get $p
        i32.store offset=0 align=4
        local.get $q
        local.get $e
        i32.store offset=4 align=4
        local.get $count
        i32.const 1
        i32.add
        local.set $count
        local.get $e
        i32.const 1
        i32.add
        local.set $i
        br $runs
      end
    end
    local.get $count
  )
;;
  ;; The damage of the n bytes at 1024, per 64 positions (one byte at d + j for word j): its bytes
  ;; ≥ 0x80, then, when those are at most `max`, its control bytes but NUL, tab, LF and CR, and
  ;; DEL, added (the zero bytes past the end count none). A word of more than `max` bytes ≥ 0x80
  ;; is damaged more than `max` whatever its controls, and random bytes are: their controls are
  ;; not counted (the count of the controls is most of the work). text-runs.ts reads a word of
  ;; little damage as text with some bytes spoilt; its JavaScript loop (`damageCounts`) is the
  ;; reference. Returns the number of words.
  (func $damage (export "damage") (param $n i32) (param $d i32) (param $max i32) (result i32)
    (local $words i32) (local $j i32) (local $q i32) (local $h i32) (local $v v128)
    local.get $n
    i32.const 63
    i32.add
    i32.const 6
    i32.shr_u
    local.set $words
    block $done
      loop $each
        local.get $j
        local.get $words
        i32.ge_u
        br_if $done
        local.get $j
        i32.const 6
        i32.shl
        i32.const 1024
        i32.add
        local.tee $q
        v128.load offset=0 align=1
        i8x16.bitmask
        i32.popcnt
        local.get $q
        v128.load offset=16 align=1
        i8x16.bitmask
        i32.popcnt
        i32.add
        local.get $q
        v128.load offset=32 align=1
        i8x16.bitmask
        i32.popcnt
        i32.add
        local.get $q
        v128.load offset=48 align=1
        i8x16.bitmask
        i32.popcnt
        i32.add
        local.tee $h
        local.get $max
        i32.le_u
        if
            local.get $q
            v128.load offset=0 align=1
            local.tee $v
            v128.const i8x16 32 32 32 32 32 32 32 32 32 32 32 32 32 32 32 32
            i8x16.lt_u
            local.get $v
            v128.const i8x16 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
            i8x16.eq
            local.get $v
            v128.const i8x16 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9
            i8x16.eq
            v128.or
            local.get $v
            v128.const i8x16 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10
            i8x16.eq
            v128.or
            local.get $v
            v128.const i8x16 13 13 13 13 13 13 13 13 13 13 13 13 13 13 13 13
            i8x16.eq
            v128.or
            v128.andnot
            local.get $v
            v128.const i8x16 127 127 127 127 127 127 127 127 127 127 127 127 127 127 127 127
            i8x16.eq
            v128.or
            i8x16.bitmask
            i32.popcnt
            local.get $h
            i32.add
            local.set $h
            local.get $q
            v128.load offset=16 align=1
            local.tee $v
            v128.const i8x16 32 32 32 32 32 32 32 32 32 32 32 32 32 32 32 32
            i8x16.lt_u
            local.get $v
            v128.const i8x16 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
            i8x16.eq
            local.get $v
            v128.const i8x16 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9
            i8x16.eq
            v128.or
            local.get $v
            v128.const i8x16 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10
            i8x16.eq
            v128.or
            local.get $v
            v128.const i8x16 13 13 13 13 13 13 13 13 13 13 13 13 13 13 13 13
            i8x16.eq
            v128.or
            v128.andnot
            local.get $v
            v128.const i8x16 127 127 127 127 127 127 127 127 127 127 127 127 127 127 127 127
            i8x16.eq
            v128.or
            i8x16.bitmask
            i32.popcnt
            local.get $h
            i32.add
            local.set $h
            local.get $q
            v128.load offset=32 align=1
            local.tee $v
            v128.const i8x16 32 32 32 32 32 32 32 32 32 32 32 32 32 32 32 32
            i8x16.lt_u
            local.get $v
            v128.const i8x16 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
            i8x16.eq
            local.get $v
            v128.const i8x16 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9
            i8x16.eq
            v128.or
            local.get $v
            v128.const i8x16 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10
            i8x16.eq
            v128.or
            local.get $v
            v128.const i8x16 13 13 13 13 13 13 13 13 13 13 13 13 13 13 13 13
            i8x16.eq
            v128.or
            v128.andnot
            local.get $v
            v128.const i8x16 127 127 127 127 127 127 127 127 127 127 127 127 127 127 127 127
            i8x16.eq
            v128.or
            i8x16.bitmask
            i32.popcnt
            local.get $h
            i32.add
            local.set $h
            local.get $q
            v128.load offset=48 align=1
            local.tee $v
            v128.const i8x16 32 32 32 32 32 32 32 32 32 32 32 32 32 32 32 32
            i8x16.lt_u
            local.get $v
            v128.const i8x16 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
            i8x16.eq
            local.get $v
            v128.const i8x16 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9
            i8x16.eq
            v128.or
            local.get $v
            v128.const i8x16 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10
            i8x16.eq
            v128.or
            local.get $v
            v128.const i8x16 13 13 13 13 13 13 13 13 13 13 13 13 13 13 13 13
            i8x16.eq
            v128.or
            v128.andnot
            local.get $v
            v128.const i8x16 127 127 127 127 127 127 127 127 127 127 127 127 127 127 127 127
            i8x16.eq
            v128.or
            i8x16.bitmask
            i32.popcnt
            local.get $h
            i32.add
            local.set $h
        end
        local.get $d
        local.get $j
        i32.add
        local.get $h
        i32.store8 offset=0
        local.get $j
        i32.const 1
        i32.add
        local.set $j
        br $each
      end
    end
    local.get $words
  )


)
