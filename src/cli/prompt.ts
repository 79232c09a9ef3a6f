// Asking for a password on the terminal without echo (Python's getpass, as Ansible uses).
import { openSync } from 'node:fs';
import { ReadStream, WriteStream } from 'node:tty';

export type Prompt = (question: string) => Promise<string>;

export class PromptError extends Error {}
/** Ctrl-C at a prompt: the admin stopped the run (exit 99, Ansible's "User interrupted execution"). */
export class PromptInterrupted extends PromptError {}

/** The bits of a TTY stream the prompt uses (a fake in tests). */
export interface TtyIn {
  isTTY?: boolean;
  setRawMode?(raw: boolean): unknown;
  on(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  on(event: 'end' | 'error', listener: () => void): unknown;
  off(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  off(event: 'end' | 'error', listener: () => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

/**
 * Reads one line with echo off: Enter ends it, Backspace deletes, Ctrl-C / Ctrl-D abort.
 * The question and the final newline go to `output`; the typed characters never do. `stop`
 * (a SIGTERM or hangup meanwhile: the terminal is not raw for those) and a terminal that ends
 * or fails (hung up) end it too: a prompt never holds a run that is being stopped.
 */
export function readHidden(question: string, input: TtyIn, output: NodeJS.WritableStream, stop?: AbortSignal): Promise<string> {
  if (!input.isTTY || !input.setRawMode) {
    return Promise.reject(new PromptError(`cannot ask "${question.trim()}": no terminal (give the password in a file instead)`));
  }
  if (stop?.aborted) return Promise.reject(new PromptInterrupted(`User interrupted execution (${stop.reason} before the password prompt)`));
  return new Promise((resolvePromise, reject) => {
    let typed = '';
    // Echo off before the question shows: what is typed the moment it appears (a fast typist,
    // a script answering the prompt) would otherwise be echoed in clear, as getpass avoids too.
    input.setRawMode!(true);
    output.write(question);
    input.resume();
    const done = (error?: Error) => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.off('error', onEnd);
      stop?.removeEventListener('abort', onStop);
      try {
        input.setRawMode!(false);
      } catch {
        // a terminal that hung up cannot be set back
      }
      input.pause();
      output.write('\n');
      if (error) reject(error);
      else resolvePromise(typed);
    };
    const onEnd = () => done(new PromptError('the terminal closed before a password was given'));
    const onStop = () => done(new PromptInterrupted(`User interrupted execution (${stop!.reason} at the password prompt)`));
    const onData = (chunk: Buffer | string) => {
      for (const c of chunk.toString('utf8')) {
        if (c === '\r' || c === '\n') return done();
        if (c === '\u0003') return done(new PromptInterrupted('User interrupted execution (Ctrl-C at the password prompt)'));
        if (c === '\u0004') return typed === '' ? done(new PromptError('no password given (end of input)')) : done();
        if (c === '\u007f' || c === '\b') typed = [...typed].slice(0, -1).join('');
        else if (c === '\u0015')
          typed = ''; // Ctrl-U: kill the line
        else if (c >= ' ') typed += c;
      }
    };
    input.on('data', onData);
    input.on('end', onEnd);
    input.on('error', onEnd);
    stop?.addEventListener('abort', onStop);
  });
}

/** A prompt on the controlling terminal (/dev/tty, like getpass), so piped stdin/stdout don't matter. */
export function terminalPrompt(stop?: AbortSignal): Prompt {
  return async (question) => {
    let fd: number;
    try {
      fd = openSync('/dev/tty', 'r+');
    } catch {
      throw new PromptError(`cannot ask "${question.trim()}": no terminal (give the password in a file instead)`);
    }
    const input = new ReadStream(fd);
    const output = new WriteStream(fd);
    try {
      return await readHidden(question, input, output, stop);
    } finally {
      input.destroy();
    }
  };
}

/**
 * The BECOME password of -K, as ansible-playbook asks it: with -k the prompt says it defaults to
 * the SSH password, and an empty answer is that password.
 */
export async function askBecomePassword(prompt: Prompt, sshPassword: string | undefined): Promise<string> {
  if (sshPassword === undefined) return prompt('BECOME password: ');
  const typed = await prompt('BECOME password[defaults to SSH password]: ');
  return typed === '' ? sshPassword : typed;
}
