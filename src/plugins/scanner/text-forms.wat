;; Text DLP's dot-free and white-space-free forms of a long ASCII text (text-dlp.ts,
;; `asciiDotAndSpaceFree`, step 5 of §6) in WebAssembly with 128-bit SIMD: the source of the bytes
;; embedded in text-forms-wasm.ts, assembled by `node scripts/gen-wasm.mjs` (WebAssembly text
;; format, assembled with wabt).
;;
;; Why: speed. The JavaScript loop that writes both forms reads and writes every byte (≈ 1.9 ns a
;; byte, ≈ 125 µs per 64 KiB request body, once per text the request scan reads); here a block of
;; sixteen bytes with neither a dot nor a byte at or below 0x20 is copied to both forms at once,
;; a block without a dot is copied to the dot-free form at once, and only the rest is read byte
;; by byte.
;;
;; Memory (64 KiB pages, never grown): at 0 the white-space table, one byte per ASCII code (1:
;; kept, 0: dropped), written by the caller from text-dlp.ts's own table, which checks that every
;; code it drops is at or below 0x20 (the blocks' test relies on it); the text and the two forms
;; from 256 on, where the caller puts them.

(module
  (memory (export "memory") 48)

  ;; The white-space-free form's length after `forms` (the dot-free form's is its result).
  (global $space_free (export "space_free") (mut i32) (i32.const 0))

  ;; Writes the `len` ASCII bytes at `src` without their dots from `dots`, and without their white
  ;; space (the table at 0) from `spaces`. Returns the dot-free form's length; sets `space_free`.
  ;; Each form may be written up to fifteen bytes past its end (a block is stored whole).
  (func (export "forms") (param $src i32) (param $len i32) (param $dots i32) (param $spaces i32) (result i32)
    (local $end i32) (local $d i32) (local $w i32) (local $c i32) (local $stop i32)
    (local $v v128) (local $kdot v128) (local $k20 v128) (local $nodot i32)
    (local.set $end (i32.add (local.get $src) (local.get $len)))
    (local.set $d (local.get $dots))
    (local.set $w (local.get $spaces))
    (local.set $kdot (i8x16.splat (i32.const 0x2e)))
    (local.set $k20 (i8x16.splat (i32.const 0x20)))
    (block $blocks
      (loop $block
        (br_if $blocks (i32.gt_u (i32.add (local.get $src) (i32.const 16)) (local.get $end)))
        (local.set $v (v128.load (local.get $src)))
        (local.set $nodot (i32.eqz (v128.any_true (i8x16.eq (local.get $v) (local.get $kdot)))))
        (if (local.get $nodot)
          (then
            (v128.store (local.get $d) (local.get $v))
            (local.set $d (i32.add (local.get $d) (i32.const 16)))
            ;; ASCII bytes: above 0x20 signed is above 0x20.
            (if (i8x16.all_true (i8x16.gt_s (local.get $v) (local.get $k20)))
              (then
                (v128.store (local.get $w) (local.get $v))
                (local.set $w (i32.add (local.get $w) (i32.const 16)))
                (local.set $src (i32.add (local.get $src) (i32.const 16)))
                (br $block)))))
        ;; Byte by byte for the form (or forms) the block test did not settle.
        (local.set $stop (i32.add (local.get $src) (i32.const 16)))
        (loop $byte
          (local.set $c (i32.load8_u (local.get $src)))
          (if (i32.eqz (local.get $nodot))
            (then
              (i32.store8 (local.get $d) (local.get $c))
              (local.set $d (i32.add (local.get $d) (i32.ne (local.get $c) (i32.const 0x2e))))))
          (i32.store8 (local.get $w) (local.get $c))
          (local.set $w (i32.add (local.get $w) (i32.load8_u (local.get $c))))
          (local.set $src (i32.add (local.get $src) (i32.const 1)))
          (br_if $byte (i32.lt_u (local.get $src) (local.get $stop))))
        (br $block)))
    (block $tail
      (loop $byte
        (br_if $tail (i32.ge_u (local.get $src) (local.get $end)))
        (local.set $c (i32.load8_u (local.get $src)))
        (i32.store8 (local.get $d) (local.get $c))
        (local.set $d (i32.add (local.get $d) (i32.ne (local.get $c) (i32.const 0x2e))))
        (i32.store8 (local.get $w) (local.get $c))
        (local.set $w (i32.add (local.get $w) (i32.load8_u (local.get $c))))
        (local.set $src (i32.add (local.get $src) (i32.const 1)))
        (br $byte)))
    (global.set $space_free (i32.sub (local.get $w) (local.get $spaces)))
    (i32.sub (local.get $d) (local.get $dots)))
)
