;; The plain-text pass maps of the pass-text builder (pass-texts.ts, `plainPassBytes`) in
;; WebAssembly with 128-bit SIMD: the source of the bytes embedded in plain-maps-wasm.ts,
;; assembled by `node scripts/gen-wasm.mjs` (WebAssembly text format, assembled with wabt).
;;
;; Why: speed. A plain text (tab, LF, CR and printable ASCII: most pages, prose and API answers)
;; has passes 1 and 2 equal to its bytes; passes 3 and 5 are its bytes through two one-byte maps
;; (leetspeak, the vowel fold). The JavaScript loops that check the bytes and apply the maps cost
;; ≈ 15 and ≈ 55 µs per 64 KiB (four bytes per step, by 64 KiB pair tables: issue 36, a sixth of
;; the response check of a 64 KiB page); here sixteen bytes are read per step (≈ 3 and ≈ 15 µs).
;; Pass 6's search for base64 runs reads the same bytes (`class_run`, below): ≈ 25–33 µs per
;; 64 KiB page in JavaScript, which reads a window from its end and jumps; here a few.
;;
;; Memory: the two maps' deltas at 0 (leetspeak) and 128 (the fold), one byte per ASCII code:
;; delta[c] = map(c) XOR c, 0 where the map keeps c. The caller writes them (from the very tables
;; the JavaScript path uses) and checks that they are 0 outside the rows these functions read
;; (plain-maps-wasm.ts: else the module is not used). The text and the two mapped copies lie
;; from 256 on, where the caller puts them. 64 pages (4 MiB), never grown.

(module
  (memory (export "memory") 64)

  ;; 1 when every byte of [p, p + len) is tab, LF, CR or 0x20–0x7E, else 0. Sixty-four bytes per
  ;; step: a byte b is printable when b − 0x20 (wrapping) is at most 0x5E (its unsigned minimum
  ;; with 0x5E is itself); tab, LF and CR are found by a 16-entry table (a swizzle gives 0 for an
  ;; index of 16 or more). The four blocks' answers are combined before the one test per step.
  ;; The bytes after the last whole step are read one by one.
  (func (export "all_plain") (param $p i32) (param $len i32) (result i32)
    (local $end i32) (local $c i32) (local $v v128) (local $d v128)
    (local $k20 v128) (local $k5e v128) (local $ws v128)
    (local.set $end (i32.add (local.get $p) (local.get $len)))
    (local.set $k20 (i8x16.splat (i32.const 0x20)))
    (local.set $k5e (i8x16.splat (i32.const 0x5e)))
    (local.set $ws (v128.const i8x16 0 0 0 0 0 0 0 0 0 -1 -1 0 0 -1 0 0))
    (block $steps
      (loop $step
        (br_if $steps (i32.gt_u (i32.add (local.get $p) (i32.const 64)) (local.get $end)))
        (if (i32.eqz (i8x16.all_true
              (v128.and
                (v128.and
                  (v128.or
                    (i8x16.eq (local.tee $d (i8x16.sub (local.tee $v (v128.load offset=0 (local.get $p))) (local.get $k20))) (i8x16.min_u (local.get $d) (local.get $k5e)))
                    (i8x16.swizzle (local.get $ws) (local.get $v)))
                  (v128.or
                    (i8x16.eq (local.tee $d (i8x16.sub (local.tee $v (v128.load offset=16 (local.get $p))) (local.get $k20))) (i8x16.min_u (local.get $d) (local.get $k5e)))
                    (i8x16.swizzle (local.get $ws) (local.get $v))))
                (v128.and
                  (v128.or
                    (i8x16.eq (local.tee $d (i8x16.sub (local.tee $v (v128.load offset=32 (local.get $p))) (local.get $k20))) (i8x16.min_u (local.get $d) (local.get $k5e)))
                    (i8x16.swizzle (local.get $ws) (local.get $v)))
                  (v128.or
                    (i8x16.eq (local.tee $d (i8x16.sub (local.tee $v (v128.load offset=48 (local.get $p))) (local.get $k20))) (i8x16.min_u (local.get $d) (local.get $k5e)))
                    (i8x16.swizzle (local.get $ws) (local.get $v)))))))
          (then (return (i32.const 0))))
        (local.set $p (i32.add (local.get $p) (i32.const 64)))
        (br $step)))
    (block $bytes
      (loop $byte
        (br_if $bytes (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $c (i32.load8_u (local.get $p)))
        (if (i32.and
              (i32.gt_u (i32.sub (local.get $c) (i32.const 0x20)) (i32.const 0x5e))
              (i32.and (i32.ne (local.get $c) (i32.const 0x09)) (i32.and (i32.ne (local.get $c) (i32.const 0x0a)) (i32.ne (local.get $c) (i32.const 0x0d)))))
          (then (return (i32.const 0))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $byte)))
    (i32.const 1))

  ;; The `len` bytes at `src` through both maps, written at `leet` and `fold` (regions that do
  ;; not overlap the text; each written only within its `len` bytes): an ASCII byte by the maps'
  ;; tables, any other kept (a plain text, or pass 1 of any text as UTF-8, whose multi-byte
  ;; sequences hold no ASCII byte). Sixteen bytes per step: a map's delta row r (the codes 16r …
  ;; 16r + 15) is looked up by a swizzle at b − 16r (wrapping), which is 16 or more (no entry: 0)
  ;; for a byte of another row, a control or a byte ≥ 0x80; the rows' deltas are ORed and XORed
  ;; into the bytes. Only the rows where a map changes a byte are read: leetspeak rows 2–4 (`$`,
  ;; the digits, `@`), the fold rows 4–7 (the vowels); the caller checks that the other rows are
  ;; 0. The bytes after the last whole step are mapped one by one from the full tables (a byte
  ;; ≥ 0x80 kept).
  (func (export "map_bytes") (param $src i32) (param $len i32) (param $leet i32) (param $fold i32)
    (local $i i32) (local $c i32) (local $v v128)
    (local $d2 v128) (local $d3 v128) (local $d4 v128) (local $d5 v128) (local $d6 v128) (local $d7 v128)
    (local $l2 v128) (local $l3 v128) (local $l4 v128)
    (local $f4 v128) (local $f5 v128) (local $f6 v128) (local $f7 v128)
    (local $k16 v128)
    (local.set $l2 (v128.load (i32.const 32)))
    (local.set $l3 (v128.load (i32.const 48)))
    (local.set $l4 (v128.load (i32.const 64)))
    (local.set $f4 (v128.load (i32.const 192)))
    (local.set $f5 (v128.load (i32.const 208)))
    (local.set $f6 (v128.load (i32.const 224)))
    (local.set $f7 (v128.load (i32.const 240)))
    (local.set $k16 (i8x16.splat (i32.const 16)))
    (block $steps
      (loop $step
        (br_if $steps (i32.gt_u (i32.add (local.get $i) (i32.const 16)) (local.get $len)))
        (local.set $v (v128.load (i32.add (local.get $src) (local.get $i))))
        (local.set $d2 (i8x16.sub (local.get $v) (i8x16.splat (i32.const 0x20))))
        (local.set $d3 (i8x16.sub (local.get $d2) (local.get $k16)))
        (local.set $d4 (i8x16.sub (local.get $d3) (local.get $k16)))
        (local.set $d5 (i8x16.sub (local.get $d4) (local.get $k16)))
        (local.set $d6 (i8x16.sub (local.get $d5) (local.get $k16)))
        (local.set $d7 (i8x16.sub (local.get $d6) (local.get $k16)))
        (v128.store (i32.add (local.get $leet) (local.get $i))
          (v128.xor (local.get $v)
            (v128.or
              (v128.or (i8x16.swizzle (local.get $l2) (local.get $d2)) (i8x16.swizzle (local.get $l3) (local.get $d3)))
              (i8x16.swizzle (local.get $l4) (local.get $d4)))))
        (v128.store (i32.add (local.get $fold) (local.get $i))
          (v128.xor (local.get $v)
            (v128.or
              (v128.or (i8x16.swizzle (local.get $f4) (local.get $d4)) (i8x16.swizzle (local.get $f5) (local.get $d5)))
              (v128.or (i8x16.swizzle (local.get $f6) (local.get $d6)) (i8x16.swizzle (local.get $f7) (local.get $d7))))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $step)))
    (block $bytes
      (loop $byte
        (br_if $bytes (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $c (i32.load8_u (i32.add (local.get $src) (local.get $i))))
        (i32.store8 (i32.add (local.get $leet) (local.get $i))
          (i32.xor (local.get $c) (select (i32.load8_u (local.get $c)) (i32.const 0) (i32.lt_u (local.get $c) (i32.const 128)))))
        (i32.store8 (i32.add (local.get $fold) (local.get $i))
          (i32.xor (local.get $c) (select (i32.load8_u offset=128 (local.get $c)) (i32.const 0) (i32.lt_u (local.get $c) (i32.const 128)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $byte))))

  ;; The first i in [from, n) such that the sixteen bytes at p + i are all in base64's class
  ;; [A-Za-z0-9+/_-] (`base64Runs`' window in b64-runs.ts: the start of its next hit), or -1.
  ;; Sixteen bytes are classified per step into a bit mask; `run` counts the class bytes that end
  ;; the bytes read so far (from `from` on), so a window is found where it crosses steps too. The
  ;; bytes after the last whole step are read one by one.
  (func (export "class_run") (param $p i32) (param $from i32) (param $n i32) (result i32)
    (local $i i32) (local $run i32) (local $m i32) (local $c i32) (local $v v128)
    (local.set $i (local.get $from))
    (block $steps
      (loop $step
        (br_if $steps (i32.gt_u (i32.add (local.get $i) (i32.const 16)) (local.get $n)))
        (local.set $v (v128.load (i32.add (local.get $p) (local.get $i))))
        (local.set $m (i8x16.bitmask
          (v128.or
            (v128.or
              (i8x16.le_u (i8x16.sub (v128.or (local.get $v) (i8x16.splat (i32.const 0x20))) (i8x16.splat (i32.const 0x61))) (i8x16.splat (i32.const 25)))
              (i8x16.le_u (i8x16.sub (local.get $v) (i8x16.splat (i32.const 0x30))) (i8x16.splat (i32.const 9))))
            (v128.or
              (v128.or (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x2b))) (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x2f))))
              (v128.or (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x5f))) (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x2d))))))))
        ;; The class bytes that start this step (16 when all are), after the run before it.
        (if (i32.ge_u (i32.add (local.get $run) (i32.ctz (i32.xor (local.get $m) (i32.const 0x1ffff)))) (i32.const 16))
          (then (return (i32.sub (local.get $i) (local.get $run)))))
        ;; The run that ends this step: all sixteen added, or the class bytes at its end.
        (local.set $run
          (select
            (i32.add (local.get $run) (i32.const 16))
            (i32.clz (i32.xor (i32.shl (local.get $m) (i32.const 16)) (i32.const -1)))
            (i32.eq (local.get $m) (i32.const 0xffff))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $step)))
    (block $bytes
      (loop $byte
        (br_if $bytes (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $c (i32.load8_u (i32.add (local.get $p) (local.get $i))))
        (if (i32.or
              (i32.or
                (i32.le_u (i32.sub (i32.or (local.get $c) (i32.const 0x20)) (i32.const 0x61)) (i32.const 25))
                (i32.le_u (i32.sub (local.get $c) (i32.const 0x30)) (i32.const 9)))
              (i32.or
                (i32.or (i32.eq (local.get $c) (i32.const 0x2b)) (i32.eq (local.get $c) (i32.const 0x2f)))
                (i32.or (i32.eq (local.get $c) (i32.const 0x5f)) (i32.eq (local.get $c) (i32.const 0x2d)))))
          (then
            (local.set $run (i32.add (local.get $run) (i32.const 1)))
            (if (i32.ge_u (local.get $run) (i32.const 16))
              (then (return (i32.sub (i32.add (local.get $i) (i32.const 1)) (local.get $run))))))
          (else (local.set $run (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $byte)))
    (i32.const -1))

  ;; The first i in [from, n) whose byte at p + i is outside base64's class [A-Za-z0-9+/_-], or n:
  ;; where a run that `class_run` found ends. Sixteen bytes per step, the same class test; the
  ;; first zero bit of a step's mask is the answer. The bytes after the last whole step are read
  ;; one by one. A 64 KiB image's run in a chat request was ≈ 65 µs in JavaScript, a tenth of its
  ;; response check.
  (func (export "class_end") (param $p i32) (param $from i32) (param $n i32) (result i32)
    (local $i i32) (local $m i32) (local $c i32) (local $v v128)
    (local.set $i (local.get $from))
    (block $steps
      (loop $step
        (br_if $steps (i32.gt_u (i32.add (local.get $i) (i32.const 16)) (local.get $n)))
        (local.set $v (v128.load (i32.add (local.get $p) (local.get $i))))
        (local.set $m (i8x16.bitmask
          (v128.or
            (v128.or
              (i8x16.le_u (i8x16.sub (v128.or (local.get $v) (i8x16.splat (i32.const 0x20))) (i8x16.splat (i32.const 0x61))) (i8x16.splat (i32.const 25)))
              (i8x16.le_u (i8x16.sub (local.get $v) (i8x16.splat (i32.const 0x30))) (i8x16.splat (i32.const 9))))
            (v128.or
              (v128.or (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x2b))) (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x2f))))
              (v128.or (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x5f))) (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x2d))))))))
        (if (i32.ne (local.get $m) (i32.const 0xffff))
          (then (return (i32.add (local.get $i) (i32.ctz (i32.xor (local.get $m) (i32.const 0xffff)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $step)))
    (block $bytes
      (loop $byte
        (br_if $bytes (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $c (i32.load8_u (i32.add (local.get $p) (local.get $i))))
        (if (i32.eqz (i32.or
              (i32.or
                (i32.le_u (i32.sub (i32.or (local.get $c) (i32.const 0x20)) (i32.const 0x61)) (i32.const 25))
                (i32.le_u (i32.sub (local.get $c) (i32.const 0x30)) (i32.const 9)))
              (i32.or
                (i32.or (i32.eq (local.get $c) (i32.const 0x2b)) (i32.eq (local.get $c) (i32.const 0x2f)))
                (i32.or (i32.eq (local.get $c) (i32.const 0x5f)) (i32.eq (local.get $c) (i32.const 0x2d))))))
          (then (return (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $byte)))
    (local.get $n))
)
