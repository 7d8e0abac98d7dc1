// Hand-made inputs where tokenizers tend to disagree: normalization corners, whitespace,
// scripts that use joiners, and sizes at the extremes.

export function edgeCases(): string[] {
  const cases = [
    '',
    ' ',
    '   ',
    'query: привет мир',
    'passage: Съешь же ещё этих мягких французских булок',
    'e\u0301', 'e\u0301\u0302\u0303', 'a\u0308\u0304 b', 'ｅ\u0301 x', 'A\u030a', '\u1100\u1161\u11a8', // combining marks, jamo
    'a\u200db', '\u200b\u200bhi', 'x\u200cy', '\u2060word\ufeff', // zero-width joiners and spaces
    '\u0000x\u0001\u0002', 'tab\there', 'nul\u0000nul', '\u007f\u0080\u009f', 'bell\u0007', // control characters
    '👨\u200d👩\u200d👧\u200d👦 family', '🏳️\u200d🌈', '👍🏽👍🏿', '🇷🇺🇺🇦', '1️⃣ keycap', // emoji sequences
    'ＦＵＬＬ　ｗｉｄｔｈ　１２３', 'ﬁﬂﬃ ﬄ', '㍿ ㌀ ℌ ℡ ½ ⅷ', '①②③ ⑴', 'ｶﾀｶﾅ ﾊﾟ', 'Ⅻ ㎏ ㎡', // compatibility forms
    'a  b   c    d', '\t\t\tindent', 'line\nbreak\r\nwin', '  lead and trail  ', ' \u00a0 \u2003 \u3000 ', 'x\u2028y\u2029z', // spaces
    'مرحبا بالعالم', 'שלום עולם', 'abc \u202eRTL\u202c def', 'فارسی\u200cنویسی', // RTL
    '\ud800', 'a\udc00b', '\udbff\udfff', 'x\ud83d', // lone surrogates
    '<s>', '</s>', '<pad><unk>', 'a <mask> b', 'a<mask>b', '   <mask>', '<mask><mask>', '<<s>>', '<s </s>',
    'ක්‍ෂ', 'ന്‍', 'က္ကို', 'ज़िंदगी', 'ไทย ภาษา', '中文字符测试', '日本語のテキスト', '한국어 텍스트', 'ᚠᛇᚻ', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟙𝟚𝟛',
  ];
  const big = [];
  const words = ['alpha', 'бета', 'γάμμα', 'דלת', '😀', 'ｆｕｌｌ', 'e\u0301'];
  for (let i = 0; big.join(' ').length < 100_000; i++) big.push(words[i % words.length]);
  cases.push(big.join(' ').slice(0, 100_000));
  cases.push('x'.repeat(100_000));
  cases.push(' '.repeat(5000) + 'end');
  return cases;
}
