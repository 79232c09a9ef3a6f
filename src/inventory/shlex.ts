// A port of Python's shlex.split(s, comments=True) in POSIX mode: the INI inventory plugin
// splits host lines with it, so quoting and comments must behave exactly the same.

const WHITESPACE = ' \t\r\n';
const QUOTES = `'"`;
const ESCAPE = '\\';
const ESCAPED_QUOTES = '"';

/** Throws Error('No closing quotation' | 'No escaped character') like Python. */
export function shlexSplit(text: string, comments = true): string[] {
  // Without quotes, escapes or comments, the state machine below only splits at whitespace;
  // that is most host lines, so they skip it.
  if (!/['"\\#]/.test(text)) return text.split(/[ \t\r\n]+/).filter((t) => t !== '');
  const commenters = comments ? '#' : '';
  const tokens: string[] = [];
  let i = 0;
  // Python's state machine: ' ' between tokens, 'a' in a word, a quote char in quotes, '\\'
  // after an escape. null means end of input.
  let state: string | null = ' ';
  while (state !== null) {
    let token = '';
    let quoted = false;
    let escapedState = ' ';
    for (;;) {
      const ch = i < text.length ? text[i++]! : '';
      if (state === ' ') {
        if (!ch) {
          state = null;
          break;
        }
        if (WHITESPACE.includes(ch)) {
          if (token || quoted) break;
          continue;
        }
        if (commenters.includes(ch)) {
          i = skipLine(text, i);
          continue;
        }
        if (ESCAPE.includes(ch)) {
          escapedState = 'a';
          state = ch;
          continue;
        }
        if (QUOTES.includes(ch)) {
          state = ch;
          continue;
        }
        token = ch;
        state = 'a';
      } else if (QUOTES.includes(state)) {
        quoted = true;
        if (!ch) throw new Error('No closing quotation');
        if (ch === state) state = 'a';
        else if (ESCAPE.includes(ch) && ESCAPED_QUOTES.includes(state)) {
          escapedState = state;
          state = ch;
        } else token += ch;
      } else if (ESCAPE.includes(state)) {
        if (!ch) throw new Error('No escaped character');
        // Inside quotes only the quote itself or the escape character may be escaped.
        if (QUOTES.includes(escapedState) && ch !== state && ch !== escapedState) token += state;
        token += ch;
        state = escapedState;
      } else {
        // state 'a': inside a word
        if (!ch) {
          state = null;
          break;
        }
        if (WHITESPACE.includes(ch)) {
          state = ' ';
          if (token || quoted) break;
          continue;
        }
        if (commenters.includes(ch)) {
          i = skipLine(text, i);
          state = ' ';
          if (token || quoted) break;
          continue;
        }
        if (QUOTES.includes(ch)) {
          state = ch;
          continue;
        }
        if (ESCAPE.includes(ch)) {
          escapedState = 'a';
          state = ch;
          continue;
        }
        token += ch;
      }
    }
    if (token || quoted) tokens.push(token);
  }
  return tokens;
}

function skipLine(text: string, i: number): number {
  const nl = text.indexOf('\n', i);
  return nl === -1 ? text.length : nl + 1;
}
