;; The visible text of an HTML page (html-text.ts, `PageTextReader`) in WebAssembly: the source of
;; the bytes embedded in html-text-wasm.ts, assembled by `node scripts/gen-wasm.mjs` (WebAssembly
;; text format, assembled with wabt).
;;
;; Why: speed. The JavaScript walk reads the page's code units one by one (tags, names, character
;; references, lines) at ≈ 2.2 ns a unit, ≈ 145 µs of the bench's 64 KiB page: a fifth of the
;; response check of an HTML page (issue 36). Here the text runs are copied and a tag's '>' and
;; the searches (a closing tag, a comment's end) are looked for eight units at a time: ≈ 66 µs. It
;; is the walk of `PageTextReader.pass` without `raw`, step for step, on a page whose lowercase
;; has its length (no U+0130: the caller takes the JavaScript path for such a page); the
;; JavaScript walk stays the reference, and html-text-differential.test.ts runs every case on
;; both.
;;
;; Memory (64 KiB pages, never grown; the caller places the regions):
;;   0     the tag table's keys, one i64 per slot (at most 512 slots), written by the caller from
;;         html-text.ts's own table (`tagKey` of each name; 0: an empty slot);
;;   4096  the slots' kinds (one byte each: 0 none, 1 a line break, 2 the title, 3 skipped);
;;   4608  32 bytes of scratch: a skipped element's name, decoded from its key;
;;   the page's code units (UTF-16, then four 0 units) and the text written, where the caller says
;;   (the text is stored eight units at a time: up to seven units after its end are written too,
;;   and the steps that look for '>' read up to seven units past `near`, into the 0s and beyond).
;; Positions are byte addresses (a unit is two bytes); `visible` returns units.

(module
  (memory (export "memory") 66)

  ;; Where `visible` found the first title's text (byte addresses; -1: no title), and how many
  ;; titles the page has (the caller reads the first; when its text is empty and there are more,
  ;; it reads the page with the JavaScript walk, which takes the next).
  (global $title_from (export "title_from") (mut i32) (i32.const -1))
  (global $title_to (export "title_to") (mut i32) (i32.const -1))
  (global $titles (export "titles") (mut i32) (i32.const 0))

  ;; JavaScript's `\s` (trim and the name regex's class), LF included.
  (func $space (param $c i32) (result i32)
    (if (i32.le_u (local.get $c) (i32.const 0x20))
      (then (return (i32.or (i32.eq (local.get $c) (i32.const 0x20))
                            (i32.le_u (i32.sub (local.get $c) (i32.const 0x09)) (i32.const 4))))))
    (if (i32.lt_u (local.get $c) (i32.const 0x1680)) (then (return (i32.eq (local.get $c) (i32.const 0xa0)))))
    (i32.or
      (i32.or
        (i32.eq (local.get $c) (i32.const 0x1680))
        (i32.or (i32.le_u (i32.sub (local.get $c) (i32.const 0x2000)) (i32.const 10))
                (i32.le_u (i32.sub (local.get $c) (i32.const 0x2028)) (i32.const 1))))
      (i32.or
        (i32.or (i32.eq (local.get $c) (i32.const 0x202f)) (i32.eq (local.get $c) (i32.const 0x205f)))
        (i32.or (i32.eq (local.get $c) (i32.const 0x3000)) (i32.eq (local.get $c) (i32.const 0xfeff))))))

  ;; `lowerUnit`: A–Z and the Kelvin sign lowercase to ASCII; every other unit compared stays.
  (func $lower (param $c i32) (result i32)
    (if (i32.le_u (i32.sub (local.get $c) (i32.const 0x41)) (i32.const 25))
      (then (return (i32.or (local.get $c) (i32.const 0x20)))))
    (select (i32.const 0x6b) (local.get $c) (i32.eq (local.get $c) (i32.const 0x212a))))

  ;; `hexDigitValue`: 0–15, or -1.
  (func $hex (param $c i32) (result i32)
    (local $l i32)
    (if (i32.le_u (i32.sub (local.get $c) (i32.const 0x30)) (i32.const 9))
      (then (return (i32.sub (local.get $c) (i32.const 0x30)))))
    (local.set $l (i32.or (local.get $c) (i32.const 0x20)))
    (if (i32.le_u (i32.sub (local.get $l) (i32.const 0x61)) (i32.const 5))
      (then (return (i32.sub (local.get $l) (i32.const 0x57)))))
    (i32.const -1))

  ;; The first unit `c` at or after `p` and before `end`, or -1 (`indexOf` of one unit): eight
  ;; units a step, then the last few one by one.
  (func $find (param $p i32) (param $end i32) (param $c i32) (result i32)
    (local $k v128) (local $m i32)
    (local.set $k (i16x8.splat (local.get $c)))
    (block $tail
      (loop $step
        (br_if $tail (i32.gt_u (i32.add (local.get $p) (i32.const 16)) (local.get $end)))
        (local.set $m (i16x8.bitmask (i16x8.eq (v128.load (local.get $p)) (local.get $k))))
        (if (local.get $m) (then (return (i32.add (local.get $p) (i32.shl (i32.ctz (local.get $m)) (i32.const 1))))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $step)))
    (block $none
      (loop $next
        (br_if $none (i32.ge_u (local.get $p) (local.get $end)))
        (if (i32.eq (i32.load16_u (local.get $p)) (local.get $c)) (then (return (local.get $p))))
        (local.set $p (i32.add (local.get $p) (i32.const 2)))
        (br $next)))
    (i32.const -1))

  ;; The first '-->' starting at or after `p` and ending by `end`, or -1.
  (func $find_comment_end (param $p i32) (param $end i32) (result i32)
    (loop $next
      (local.set $p (call $find (local.get $p) (local.get $end) (i32.const 0x2d)))
      (if (i32.or (i32.lt_s (local.get $p) (i32.const 0)) (i32.gt_u (i32.add (local.get $p) (i32.const 6)) (local.get $end)))
        (then (return (i32.const -1))))
      (if (i32.and (i32.eq (i32.load16_u offset=2 (local.get $p)) (i32.const 0x2d))
                   (i32.eq (i32.load16_u offset=4 (local.get $p)) (i32.const 0x3e)))
        (then (return (local.get $p))))
      (local.set $p (i32.add (local.get $p) (i32.const 2)))
      (br $next))
    (i32.const -1))

  ;; `closeTag`: the first '</' at or after `p` (ending by `end`) followed by the name whose key is
  ;; `key`, compared by `lower` of the page's units, or -1. The name is decoded from the key into
  ;; the scratch (its base-37 digits, last first). A comparison stops at the first unit that
  ;; differs, at the latest at the 0 after the page.
  (func $close_tag (param $p i32) (param $end i32) (param $key i64) (result i32)
    (local $at i32) (local $len i32) (local $d i32) (local $j i32) (local $k i32)
    (local.set $at (i32.const 4640))
    (loop $digits
      (local.set $d (i32.wrap_i64 (i64.rem_u (local.get $key) (i64.const 37))))
      (local.set $key (i64.div_u (local.get $key) (i64.const 37)))
      (local.set $at (i32.sub (local.get $at) (i32.const 2)))
      (i32.store16 (local.get $at)
        (select (i32.add (local.get $d) (i32.const 0x60)) (i32.add (local.get $d) (i32.const 0x15)) (i32.le_u (local.get $d) (i32.const 26))))
      (br_if $digits (i64.ne (local.get $key) (i64.const 0))))
    (local.set $len (i32.sub (i32.const 4640) (local.get $at)))
    (loop $next
      (local.set $p (call $find (local.get $p) (local.get $end) (i32.const 0x3c)))
      ;; No '<' with a unit after it: no '</' either.
      (if (i32.or (i32.lt_s (local.get $p) (i32.const 0)) (i32.gt_u (i32.add (local.get $p) (i32.const 4)) (local.get $end)))
        (then (return (i32.const -1))))
      (if (i32.eq (i32.load16_u offset=2 (local.get $p)) (i32.const 0x2f))
        (then
          (local.set $j (i32.const 0))
          (local.set $k (i32.add (local.get $p) (i32.const 4)))
          (block $differs
            (loop $unit
              (br_if $differs (i32.ge_u (local.get $j) (local.get $len)))
              (br_if $differs (i32.ne (call $lower (i32.load16_u (local.get $k)))
                                      (i32.load16_u (i32.add (local.get $at) (local.get $j)))))
              (local.set $j (i32.add (local.get $j) (i32.const 2)))
              (local.set $k (i32.add (local.get $k) (i32.const 2)))
              (br $unit)))
          (if (i32.eq (local.get $j) (local.get $len)) (then (return (local.get $p))))))
      (local.set $p (i32.add (local.get $p) (i32.const 2)))
      (br $next))
    (i32.const -1))

  ;; `referenceAt`: the character reference at `p` ('&', before `end`) as its code point × 16 +
  ;; its length in units, or -1 when it is none or stays as written. Named: amp lt gt quot apos
  ;; nbsp, case-insensitive, keyed five bits a letter (a = 1) as html-text.ts's `nameKey`.
  (func $reference (param $p i32) (param $end i32) (result i32)
    (local $k i32) (local $from i32) (local $cp i32) (local $d i32) (local $c i32) (local $x i32) (local $len i32)
    (local.set $k (i32.add (local.get $p) (i32.const 2)))
    (if (i32.ge_u (local.get $k) (local.get $end)) (then (return (i32.const -1))))
    (if (i32.eq (i32.load16_u (local.get $k)) (i32.const 0x23))
      (then
        (local.set $k (i32.add (local.get $k) (i32.const 2)))
        (local.set $x (i32.load16_u (local.get $k)))
        (if (i32.eq (i32.or (local.get $x) (i32.const 0x20)) (i32.const 0x78))
          (then
            (local.set $k (i32.add (local.get $k) (i32.const 2)))
            (local.set $from (local.get $k))
            (block $stop
              (loop $digit
                (br_if $stop (i32.ge_u (local.get $k) (local.get $end)))
                (br_if $stop (i32.ge_u (i32.sub (local.get $k) (local.get $from)) (i32.const 14)))
                (local.set $d (call $hex (i32.load16_u (local.get $k))))
                (br_if $stop (i32.lt_s (local.get $d) (i32.const 0)))
                (local.set $cp (i32.add (i32.shl (local.get $cp) (i32.const 4)) (local.get $d)))
                (local.set $k (i32.add (local.get $k) (i32.const 2)))
                (br $digit)))
            (local.set $len (i32.sub (local.get $k) (local.get $from)))
            (if (i32.or (i32.lt_u (local.get $len) (i32.const 2)) (i32.gt_u (local.get $len) (i32.const 12)))
              (then (return (i32.const -1)))))
          (else
            (local.set $from (local.get $k))
            (block $stop
              (loop $digit
                (br_if $stop (i32.ge_u (local.get $k) (local.get $end)))
                (br_if $stop (i32.ge_u (i32.sub (local.get $k) (local.get $from)) (i32.const 16)))
                (local.set $c (i32.load16_u (local.get $k)))
                (br_if $stop (i32.gt_u (i32.sub (local.get $c) (i32.const 0x30)) (i32.const 9)))
                (local.set $cp (i32.add (i32.mul (local.get $cp) (i32.const 10)) (i32.sub (local.get $c) (i32.const 0x30))))
                (local.set $k (i32.add (local.get $k) (i32.const 2)))
                (br $digit)))
            (local.set $len (i32.sub (local.get $k) (local.get $from)))
            (if (i32.or (i32.lt_u (local.get $len) (i32.const 2)) (i32.gt_u (local.get $len) (i32.const 14)))
              (then (return (i32.const -1))))))
        (if (i32.ge_u (local.get $k) (local.get $end)) (then (return (i32.const -1))))
        (if (i32.ne (i32.load16_u (local.get $k)) (i32.const 0x3b)) (then (return (i32.const -1))))
        (if (i32.or (i32.le_s (local.get $cp) (i32.const 0)) (i32.gt_s (local.get $cp) (i32.const 0x10ffff)))
          (then (return (i32.const -1)))))
      (else
        (local.set $from (local.get $k))
        (block $stop
          (loop $letter
            (br_if $stop (i32.ge_u (local.get $k) (local.get $end)))
            (br_if $stop (i32.ge_u (i32.sub (local.get $k) (local.get $from)) (i32.const 18)))
            (local.set $c (i32.or (i32.load16_u (local.get $k)) (i32.const 0x20)))
            (br_if $stop (i32.gt_u (i32.sub (local.get $c) (i32.const 0x61)) (i32.const 25)))
            (local.set $cp (i32.add (i32.shl (local.get $cp) (i32.const 5)) (i32.sub (local.get $c) (i32.const 0x60))))
            (local.set $k (i32.add (local.get $k) (i32.const 2)))
            (br $letter)))
        (local.set $len (i32.sub (local.get $k) (local.get $from)))
        ;; 2–8 letters and ';' is a reference; only the known names (at most 4 letters) change.
        (if (i32.or (i32.lt_u (local.get $len) (i32.const 4)) (i32.gt_u (local.get $len) (i32.const 8)))
          (then (return (i32.const -1))))
        (if (i32.ge_u (local.get $k) (local.get $end)) (then (return (i32.const -1))))
        (if (i32.ne (i32.load16_u (local.get $k)) (i32.const 0x3b)) (then (return (i32.const -1))))
        ;; The name's key (here in $cp) becomes its character.
        (block $named
          (block $unknown
            (if (i32.eq (local.get $cp) (i32.const 1456)) (then (local.set $cp (i32.const 0x26)) (br $named)))      ;; amp
            (if (i32.eq (local.get $cp) (i32.const 404)) (then (local.set $cp (i32.const 0x3c)) (br $named)))       ;; lt
            (if (i32.eq (local.get $cp) (i32.const 244)) (then (local.set $cp (i32.const 0x3e)) (br $named)))       ;; gt
            (if (i32.eq (local.get $cp) (i32.const 579060)) (then (local.set $cp (i32.const 0x22)) (br $named)))    ;; quot
            (if (i32.eq (local.get $cp) (i32.const 49651)) (then (local.set $cp (i32.const 0x27)) (br $named)))     ;; apos
            (if (i32.eq (local.get $cp) (i32.const 461424)) (then (local.set $cp (i32.const 0x20)) (br $named)))    ;; nbsp
            (br $unknown))
          (return (i32.const -1)))))
    (i32.add (i32.shl (local.get $cp) (i32.const 4))
             (i32.shr_u (i32.sub (i32.add (local.get $k) (i32.const 2)) (local.get $p)) (i32.const 1))))

  ;; `cutByTag`: whether the reading of a reference at `p` reached a '<' (past units that can
  ;; continue a reference, at most ten units on).
  (func $cut_by_tag (param $p i32) (param $end i32) (result i32)
    (local $k i32) (local $c i32) (local $l i32)
    (local.set $k (i32.add (local.get $p) (i32.const 2)))
    (block $stop
      (loop $next
        (br_if $stop (i32.ge_u (local.get $k) (local.get $end)))
        (br_if $stop (i32.gt_u (local.get $k) (i32.add (local.get $p) (i32.const 20))))
        (local.set $c (i32.load16_u (local.get $k)))
        (if (i32.eq (local.get $c) (i32.const 0x3c)) (then (return (i32.const 1))))
        (local.set $l (i32.or (local.get $c) (i32.const 0x20)))
        (br_if $stop (i32.eqz (i32.or (i32.eq (local.get $c) (i32.const 0x23))
                                      (i32.or (i32.le_u (i32.sub (local.get $c) (i32.const 0x30)) (i32.const 9))
                                              (i32.le_u (i32.sub (local.get $l) (i32.const 0x61)) (i32.const 25))))))
        (local.set $k (i32.add (local.get $k) (i32.const 2)))
        (br $next)))
    (i32.const 0))

  ;; `tagKeyAt`: the key of the tag name at `lt` ('<') as far as `limit`, or 0 (no name, or one
  ;; longer than ten units). Spaces after '<' or '</' are passed over as far as the page's end.
  (func $tag_key (param $lt i32) (param $end i32) (param $limit i32) (result i64)
    (local $k i32) (local $start i32) (local $d i32) (local $key i64)
    (local.set $k (i32.add (local.get $lt) (i32.const 2)))
    (if (i32.eq (i32.load16_u (local.get $k)) (i32.const 0x2f)) (then (local.set $k (i32.add (local.get $k) (i32.const 2)))))
    (block $stop
      (loop $blank
        (br_if $stop (i32.ge_u (local.get $k) (local.get $end)))
        (local.set $d (i32.load16_u (local.get $k)))
        (br_if $stop (i32.lt_u (i32.sub (local.get $d) (i32.const 0x21)) (i32.const 0x7f)))
        (br_if $stop (i32.eqz (call $space (local.get $d))))
        (local.set $k (i32.add (local.get $k) (i32.const 2)))
        (br $blank)))
    (local.set $start (local.get $k))
    (block $stop
      (loop $unit
        (br_if $stop (i32.ge_u (local.get $k) (local.get $limit)))
        ;; `nameDigit` of `lowerUnit` of the unit.
        (local.set $d (i32.load16_u (local.get $k)))
        (if (i32.le_u (i32.sub (local.get $d) (i32.const 0x41)) (i32.const 25))
          (then (local.set $d (i32.or (local.get $d) (i32.const 0x20))))
          (else (if (i32.eq (local.get $d) (i32.const 0x212a)) (then (local.set $d (i32.const 0x6b))))))
        (if (i32.le_u (i32.sub (local.get $d) (i32.const 0x61)) (i32.const 25))
          (then (local.set $d (i32.sub (local.get $d) (i32.const 0x60))))
          (else
            (local.set $d (select (i32.sub (local.get $d) (i32.const 0x15)) (i32.const 0)
                                  (i32.le_u (i32.sub (local.get $d) (i32.const 0x30)) (i32.const 9))))))
        (br_if $stop (i32.eqz (local.get $d)))
        (if (i32.eq (i32.sub (local.get $k) (local.get $start)) (i32.const 20)) (then (return (i64.const 0))))
        (local.set $key (i64.add (i64.mul (local.get $key) (i64.const 37)) (i64.extend_i32_u (local.get $d))))
        (local.set $k (i32.add (local.get $k) (i32.const 2)))
        (br $unit)))
    (local.get $key))

  ;; The visible text of the `n` units at `src` (then four 0 units), written from `out`:
  ;; references decoded, lines collapsed (split at LF after decoding, trimmed of `\s`, runs of
  ;; [ \t\r\f\v] inside them as one space, empty ones dropped, the rest joined by LF). Returns the
  ;; units written, or -1 when a reference is cut by a tag (the caller reads the page the long
  ;; way). Sets the title globals.
  (func (export "visible") (param $src i32) (param $n i32) (param $out i32) (param $shift i32) (result i32)
    (local $p i32) (local $end i32) (local $w i32) (local $c i32) (local $d i32)
    (local $lt i32) (local $gt i32) (local $near i32) (local $kind i32) (local $key i64) (local $x i32)
    (local $textEnd i32) (local $inLine i32) (local $anyLine i32) (local $inRun i32)
    (local $v v128) (local $v1 v128) (local $k21 v128) (local $k5d v128) (local $klt v128) (local $kamp v128) (local $kspace v128) (local $kgt v128)
    (local.set $k21 (i16x8.splat (i32.const 0x21)))
    (local.set $k5d (i16x8.splat (i32.const 0x5d)))
    (local.set $klt (i16x8.splat (i32.const 0x3c)))
    (local.set $kamp (i16x8.splat (i32.const 0x26)))
    (local.set $kspace (i16x8.splat (i32.const 0x20)))
    (local.set $kgt (i16x8.splat (i32.const 0x3e)))
    (local.set $p (local.get $src))
    (local.set $end (i32.add (local.get $src) (i32.shl (local.get $n) (i32.const 1))))
    (local.set $w (local.get $out))
    (local.set $textEnd (local.get $out))
    (global.set $title_from (i32.const -1))
    (global.set $title_to (i32.const -1))
    (global.set $titles (i32.const 0))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $c (i32.load16_u (local.get $p)))
        ;; Each branch below either goes on to the next unit or leaves the character `c` to write.
        (block $char
          (if (i32.eq (local.get $c) (i32.const 0x3c))
            (then
              (local.set $lt (local.get $p))
              ;; A comment: to the end of its '-->' (or of the page).
              ;; ('!', '-', '-' after '<': the three units in one load.)
              (if (i64.eq (i64.and (i64.load offset=2 (local.get $lt)) (i64.const 0xffffffffffff)) (i64.const 0x002d002d0021))
                (then
                  (local.set $x (call $find_comment_end (i32.add (local.get $lt) (i32.const 8)) (local.get $end)))
                  (local.set $p (select (local.get $end) (i32.add (local.get $x) (i32.const 6)) (i32.lt_s (local.get $x) (i32.const 0))))
                  (br $next)))
              ;; The tag's end: looked for in its first 32 units, then searched.
              (local.set $gt (i32.add (local.get $lt) (i32.const 2)))
              (local.set $near (i32.add (local.get $lt) (i32.const 64)))
              (if (i32.gt_u (local.get $near) (local.get $end)) (then (local.set $near (local.get $end))))
              ;; Eight units a step; a step may read past `near` (into the 0s after the page and
              ;; the memory after them), and a '>' found there counts as none before `near`.
              (block $found
                (loop $step
                  (br_if $found (i32.ge_u (local.get $gt) (local.get $near)))
                  (local.set $x (i16x8.bitmask (i16x8.eq (v128.load (local.get $gt)) (local.get $kgt))))
                  (if (local.get $x)
                    (then
                      (local.set $gt (i32.add (local.get $gt) (i32.shl (i32.ctz (local.get $x)) (i32.const 1))))
                      (br $found)))
                  (local.set $gt (i32.add (local.get $gt) (i32.const 16)))
                  (br $step)))
              (if (i32.ge_u (local.get $gt) (local.get $near))
                (then (local.set $gt (call $find (local.get $near) (local.get $end) (i32.const 0x3e)))))
              (br_if $done (i32.lt_s (local.get $gt) (i32.const 0)))
              ;; The name read as far as the tag's '>' and at most 40 units from '<'.
              (local.set $x (i32.add (local.get $gt) (i32.const 2)))
              (if (i32.gt_u (local.get $x) (i32.add (local.get $lt) (i32.const 80))) (then (local.set $x (i32.add (local.get $lt) (i32.const 80)))))
              (local.set $key (call $tag_key (local.get $lt) (local.get $end) (local.get $x)))
              ;; `tagKind`: the slot is the key's low 32 bits times the golden-ratio multiplier,
              ;; shifted right by `shift`; a slot holding another key reads 0 (none).
              (local.set $kind (i32.const 0))
              (if (i64.ne (local.get $key) (i64.const 0))
                (then
                  (local.set $x (i32.shr_u (i32.mul (i32.wrap_i64 (local.get $key)) (i32.const 0x9e3779b1)) (local.get $shift)))
                  (if (i64.eq (i64.load (i32.shl (local.get $x) (i32.const 3))) (local.get $key))
                    (then (local.set $kind (i32.load8_u offset=4096 (local.get $x)))))))
              (if (i32.ne (i32.load16_u offset=2 (local.get $lt)) (i32.const 0x2f))
                (then
                  (if (i32.eq (local.get $kind) (i32.const 3))
                    (then
                      ;; A skipped element: past the '>' after its closing tag.
                      (local.set $x (call $close_tag (i32.add (local.get $gt) (i32.const 2)) (local.get $end) (local.get $key)))
                      (if (i32.ge_s (local.get $x) (i32.const 0)) (then (local.set $x (call $find (local.get $x) (local.get $end) (i32.const 0x3e)))))
                      (local.set $p (select (local.get $end) (i32.add (local.get $x) (i32.const 2)) (i32.lt_s (local.get $x) (i32.const 0))))
                      (br $next)))
                  (if (i32.eq (local.get $kind) (i32.const 2))
                    (then
                      ;; The title: the first one's place is kept, and the titles are counted.
                      (local.set $x (call $close_tag (i32.add (local.get $gt) (i32.const 2)) (local.get $end) (local.get $key)))
                      (if (i32.eqz (global.get $titles))
                        (then
                          (global.set $title_from (i32.add (local.get $gt) (i32.const 2)))
                          (global.set $title_to (select (local.get $end) (local.get $x) (i32.lt_s (local.get $x) (i32.const 0))))))
                      (global.set $titles (i32.add (global.get $titles) (i32.const 1)))
                      (if (i32.ge_s (local.get $x) (i32.const 0)) (then (local.set $x (call $find (local.get $x) (local.get $end) (i32.const 0x3e)))))
                      (local.set $p (select (local.get $end) (i32.add (local.get $x) (i32.const 2)) (i32.lt_s (local.get $x) (i32.const 0))))
                      (br $next)))))
              (local.set $p (i32.add (local.get $gt) (i32.const 2)))
              (br_if $next (i32.ne (local.get $kind) (i32.const 1)))
              ;; A block tag is a line break (as an LF in the text, below).
              (if (local.get $inLine) (then (local.set $w (local.get $textEnd))))
              (local.set $inLine (i32.const 0))
              (local.set $inRun (i32.const 0))
              (br $next)))
          (if (i32.eq (local.get $c) (i32.const 0x26))
            (then
              (local.set $x (call $reference (local.get $p) (local.get $end)))
              (if (i32.lt_s (local.get $x) (i32.const 0))
                (then
                  (if (call $cut_by_tag (local.get $p) (local.get $end)) (then (return (i32.const -1))))
                  (local.set $p (i32.add (local.get $p) (i32.const 2))))
                (else
                  (local.set $p (i32.add (local.get $p) (i32.shl (i32.and (local.get $x) (i32.const 15)) (i32.const 1))))
                  (local.set $c (i32.shr_u (local.get $x) (i32.const 4)))))
              (br $char)))
          (if (i32.and (i32.le_u (i32.sub (local.get $c) (i32.const 0x21)) (i32.const 0x5d)) (i32.and (i32.ne (local.get $c) (i32.const 0x3c)) (i32.ne (local.get $c) (i32.const 0x26))))
            (then
              ;; A run of text: printable ASCII but '<' and '&', single spaces between its
              ;; characters, copied in a loop of its own.
              (if (i32.eqz (local.get $inLine))
                (then
                  (if (local.get $anyLine)
                    (then
                      (i32.store16 (local.get $w) (i32.const 0x0a))
                      (local.set $w (i32.add (local.get $w) (i32.const 2)))))
                  (local.set $inLine (i32.const 1))
                  (local.set $anyLine (i32.const 1))))
              (i32.store16 (local.get $w) (local.get $c))
              (local.set $w (i32.add (local.get $w) (i32.const 2)))
              (block $ended
                (loop $run
                  ;; Eight units at once: those before the first that is neither a word unit nor
                  ;; a space before one (the units after them read one unit on) are copied as the
                  ;; steps below copy them unit by unit; at that unit the run ends. (All eight are
                  ;; stored: the text after them overwrites what is not kept.)
                  (if (i32.le_u (i32.add (local.get $p) (i32.const 18)) (local.get $end))
                    (then
                      (local.set $v (v128.load offset=2 (local.get $p)))
                      (local.set $v1 (v128.load offset=4 (local.get $p)))
                      (v128.store (local.get $w) (local.get $v))
                      (local.set $x (i16x8.bitmask
                            (v128.or
                              (v128.andnot
                                (v128.andnot
                                  (i16x8.le_u (i16x8.sub (local.get $v) (local.get $k21)) (local.get $k5d))
                                  (i16x8.eq (local.get $v) (local.get $klt)))
                                (i16x8.eq (local.get $v) (local.get $kamp)))
                              (v128.and
                                (i16x8.eq (local.get $v) (local.get $kspace))
                                (v128.andnot
                                  (v128.andnot
                                    (i16x8.le_u (i16x8.sub (local.get $v1) (local.get $k21)) (local.get $k5d))
                                    (i16x8.eq (local.get $v1) (local.get $klt)))
                                  (i16x8.eq (local.get $v1) (local.get $kamp)))))))
                      (if (i32.eq (local.get $x) (i32.const 0xff))
                        (then
                          (local.set $w (i32.add (local.get $w) (i32.const 16)))
                          (local.set $p (i32.add (local.get $p) (i32.const 16)))
                          (br $run)))
                      (local.set $x (i32.shl (i32.ctz (i32.xor (local.get $x) (i32.const 0xff))) (i32.const 1)))
                      (local.set $w (i32.add (local.get $w) (local.get $x)))
                      (local.set $p (i32.add (i32.add (local.get $p) (local.get $x)) (i32.const 2)))
                      (br $ended)))
                  (local.set $p (i32.add (local.get $p) (i32.const 2)))
                  (local.set $c (i32.load16_u (local.get $p)))
                  (if (i32.and (i32.le_u (i32.sub (local.get $c) (i32.const 0x21)) (i32.const 0x5d)) (i32.and (i32.ne (local.get $c) (i32.const 0x3c)) (i32.ne (local.get $c) (i32.const 0x26))))
                    (then
                      (i32.store16 (local.get $w) (local.get $c))
                      (local.set $w (i32.add (local.get $w) (i32.const 2)))
                      (br $run)))
                  (br_if $ended (i32.ne (local.get $c) (i32.const 0x20)))
                  (local.set $d (i32.load16_u offset=2 (local.get $p)))
                  (br_if $ended (i32.eqz (i32.and (i32.le_u (i32.sub (local.get $d) (i32.const 0x21)) (i32.const 0x5d)) (i32.and (i32.ne (local.get $d) (i32.const 0x3c)) (i32.ne (local.get $d) (i32.const 0x26))))))
                  (i32.store (local.get $w) (i32.or (i32.const 0x20) (i32.shl (local.get $d) (i32.const 16))))
                  (local.set $w (i32.add (local.get $w) (i32.const 4)))
                  (local.set $p (i32.add (local.get $p) (i32.const 2)))
                  (br $run)))
              (local.set $inRun (i32.const 0))
              (local.set $textEnd (local.get $w))
              (br $next)))
          (local.set $p (i32.add (local.get $p) (i32.const 2))))
        ;; One character of text: printable ASCII or any other character but LF and `\s`, a line
        ;; break, or a space.
        (if (if (result i32) (i32.le_u (i32.sub (local.get $c) (i32.const 0x21)) (i32.const 0x5d))
              (then (i32.const 1))
              (else
                (if (result i32) (i32.le_u (local.get $c) (i32.const 0x20))
                  (then (i32.eqz (i32.or (i32.eq (local.get $c) (i32.const 0x20)) (i32.le_u (i32.sub (local.get $c) (i32.const 0x09)) (i32.const 4)))))
                  (else (i32.eqz (call $space (local.get $c)))))))
          (then
            (if (i32.eqz (local.get $inLine))
              (then
                (if (local.get $anyLine)
                  (then
                    (i32.store16 (local.get $w) (i32.const 0x0a))
                    (local.set $w (i32.add (local.get $w) (i32.const 2)))))
                (local.set $inLine (i32.const 1))
                (local.set $anyLine (i32.const 1))))
            (if (i32.lt_u (local.get $c) (i32.const 0x10000))
              (then
                (i32.store16 (local.get $w) (local.get $c))
                (local.set $w (i32.add (local.get $w) (i32.const 2))))
              (else
                (local.set $c (i32.sub (local.get $c) (i32.const 0x10000)))
                (i32.store16 (local.get $w) (i32.add (i32.const 0xd800) (i32.shr_u (local.get $c) (i32.const 10))))
                (i32.store16 offset=2 (local.get $w) (i32.add (i32.const 0xdc00) (i32.and (local.get $c) (i32.const 0x3ff))))
                (local.set $w (i32.add (local.get $w) (i32.const 4)))))
            (local.set $inRun (i32.const 0))
            (local.set $textEnd (local.get $w))
            (br $next)))
        (if (i32.eq (local.get $c) (i32.const 0x0a))
          (then
            (if (local.get $inLine) (then (local.set $w (local.get $textEnd))))
            (local.set $inLine (i32.const 0))
            (local.set $inRun (i32.const 0))
            (br $next)))
        ;; A JavaScript white-space character inside a line: a blank run is one space.
        (br_if $next (i32.eqz (local.get $inLine)))
        (if (i32.or (i32.or (i32.eq (local.get $c) (i32.const 0x20)) (i32.eq (local.get $c) (i32.const 0x09)))
                    (i32.le_u (i32.sub (local.get $c) (i32.const 0x0b)) (i32.const 2)))
          (then
            (if (i32.eqz (local.get $inRun))
              (then
                (i32.store16 (local.get $w) (i32.const 0x20))
                (local.set $w (i32.add (local.get $w) (i32.const 2)))))
            (local.set $inRun (i32.const 1)))
          (else
            (i32.store16 (local.get $w) (local.get $c))
            (local.set $w (i32.add (local.get $w) (i32.const 2)))
            (local.set $inRun (i32.const 0))))
        (br $next)))
    (i32.shr_u
      (i32.sub (select (local.get $textEnd) (local.get $w) (local.get $inLine)) (local.get $out))
      (i32.const 1)))
)
