/* gunzip for browsers without DecompressionStream (older Chromium-based browsers common on
   government desktops). A plain RFC 1951 decoder after the tinf design: slower than the
   browser's own, so it is used only when that is missing. */
var gkInflate = (function () {
  'use strict';

  function Tree() {
    this.table = new Uint16Array(16);
    this.trans = new Uint16Array(288);
  }

  var lengthBits = new Uint8Array(30), lengthBase = new Uint16Array(30);
  var distBits = new Uint8Array(30), distBase = new Uint16Array(30);
  var order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];
  var fixedLit = new Tree(), fixedDist = new Tree();

  function bitsBase(bits, base, delta, first) {
    var i, sum;
    for (i = 0; i < delta; ++i) bits[i] = 0;
    for (i = 0; i < 30 - delta; ++i) bits[i + delta] = (i / delta) | 0;
    for (sum = first, i = 0; i < 30; ++i) {
      base[i] = sum;
      sum += 1 << bits[i];
    }
  }
  bitsBase(lengthBits, lengthBase, 4, 3);
  bitsBase(distBits, distBase, 2, 1);
  lengthBits[28] = 0;
  lengthBase[28] = 258;

  (function fixed() {
    var i;
    fixedLit.table[7] = 24; fixedLit.table[8] = 152; fixedLit.table[9] = 112;
    for (i = 0; i < 24; ++i) fixedLit.trans[i] = 256 + i;
    for (i = 0; i < 144; ++i) fixedLit.trans[24 + i] = i;
    for (i = 0; i < 8; ++i) fixedLit.trans[168 + i] = 280 + i;
    for (i = 0; i < 112; ++i) fixedLit.trans[176 + i] = 144 + i;
    fixedDist.table[5] = 32;
    for (i = 0; i < 32; ++i) fixedDist.trans[i] = i;
  })();

  function build(t, lengths, off, num) {
    var i, sum = 0, offs = new Uint16Array(16);
    t.table.fill(0);
    for (i = 0; i < num; ++i) t.table[lengths[off + i]]++;
    t.table[0] = 0;
    for (i = 0; i < 16; ++i) {
      offs[i] = sum;
      sum += t.table[i];
    }
    for (i = 0; i < num; ++i) {
      if (lengths[off + i]) t.trans[offs[lengths[off + i]]++] = i;
    }
  }

  function State(source, start, dest) {
    this.src = source; this.pos = start; this.tag = 0; this.bits = 0;
    this.dest = dest; this.out = 0;
  }

  function getbit(d) {
    if (!d.bits--) {
      d.tag = d.src[d.pos++];
      d.bits = 7;
    }
    var bit = d.tag & 1;
    d.tag >>>= 1;
    return bit;
  }

  function read(d, num, base) {
    if (!num) return base;
    while (d.bits < 24) {
      d.tag |= (d.src[d.pos++] | 0) << d.bits;
      d.bits += 8;
    }
    var value = d.tag & (0xffff >>> (16 - num));
    d.tag >>>= num;
    d.bits -= num;
    return value + base;
  }

  function symbol(d, t) {
    while (d.bits < 24) {
      d.tag |= (d.src[d.pos++] | 0) << d.bits;
      d.bits += 8;
    }
    var sum = 0, cur = 0, len = 0, tag = d.tag;
    do {
      cur = 2 * cur + (tag & 1);
      tag >>>= 1;
      ++len;
      sum += t.table[len];
      cur -= t.table[len];
    } while (cur >= 0);
    d.tag = tag;
    d.bits -= len;
    return t.trans[sum + cur];
  }

  function trees(d, lt, dt) {
    var hlit = read(d, 5, 257), hdist = read(d, 5, 1), hclen = read(d, 4, 4);
    var lengths = new Uint8Array(320), codes = new Tree(), i, num, sym, n, prev;
    for (i = 0; i < hclen; ++i) lengths[order[i]] = read(d, 3, 0);
    build(codes, lengths, 0, 19);
    lengths = new Uint8Array(320);
    for (num = 0; num < hlit + hdist;) {
      sym = symbol(d, codes);
      if (sym === 16) {
        prev = lengths[num - 1];
        for (n = read(d, 2, 3); n; --n) lengths[num++] = prev;
      } else if (sym === 17) {
        for (n = read(d, 3, 3); n; --n) lengths[num++] = 0;
      } else if (sym === 18) {
        for (n = read(d, 7, 11); n; --n) lengths[num++] = 0;
      } else {
        lengths[num++] = sym;
      }
    }
    build(lt, lengths, 0, hlit);
    build(dt, lengths, hlit, hdist);
  }

  function block(d, lt, dt) {
    var dest = d.dest, sym, length, dsym, from, i;
    for (;;) {
      sym = symbol(d, lt);
      if (sym === 256) return;
      if (sym < 256) {
        dest[d.out++] = sym;
      } else {
        sym -= 257;
        length = read(d, lengthBits[sym], lengthBase[sym]);
        dsym = symbol(d, dt);
        from = d.out - read(d, distBits[dsym], distBase[dsym]);
        for (i = from; i < from + length; ++i) dest[d.out++] = dest[i];
      }
    }
  }

  function stored(d) {
    while (d.bits >= 8) {
      d.pos--;
      d.bits -= 8;
    }
    var length = d.src[d.pos] | (d.src[d.pos + 1] << 8);
    d.pos += 4;
    d.dest.set(d.src.subarray(d.pos, d.pos + length), d.out);
    d.out += length;
    d.pos += length;
    d.bits = 0;
    d.tag = 0;
  }

  return function gunzip(src) {
    if (src[0] !== 0x1f || src[1] !== 0x8b || src[2] !== 8) throw new Error('not gzip data');
    var flags = src[3], pos = 10;
    if (flags & 4) pos += 2 + (src[pos] | (src[pos + 1] << 8));
    if (flags & 8) while (src[pos++]);
    if (flags & 16) while (src[pos++]);
    if (flags & 2) pos += 2;
    var n = src.length;
    var size = (src[n - 4] | (src[n - 3] << 8) | (src[n - 2] << 16) | (src[n - 1] << 24)) >>> 0;
    var d = new State(src, pos, new Uint8Array(size));
    var lt = new Tree(), dt = new Tree(), last, type;
    do {
      last = getbit(d);
      type = read(d, 2, 0);
      if (type === 0) stored(d);
      else if (type === 1) block(d, fixedLit, fixedDist);
      else if (type === 2) {
        trees(d, lt, dt);
        block(d, lt, dt);
      } else throw new Error('bad deflate block');
    } while (!last);
    return d.dest;
  };
})();
