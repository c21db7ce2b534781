/**
 * Required options and arguments, said plainly: `--help` marks each required option and puts it in
 * the usage line, and a command run with none of what it needs (`flotilla tune`) names all of it at
 * once, instead of Commander's first complaint (which named `--model-repository` before `<model>`).
 */
import { type Command, Help, type Option } from 'commander';

const REQUIRED = '(required)';

function mandatory(cmd: Command): Option[] {
  return cmd.options.filter((o) => o.mandatory);
}

function argumentNames(cmd: Command): string[] {
  return cmd.registeredArguments.map((a) => {
    const name = `${a.name()}${a.variadic ? '...' : ''}`;
    return a.required ? `<${name}>` : `[${name}]`;
  });
}

/** `--model-repository <dir> [options] <model>`: what the usage line shows. */
export function usageLine(cmd: Command): string {
  return [...mandatory(cmd).map((o) => o.flags), '[options]', ...argumentNames(cmd)].join(' ');
}

/** Marks required options in `--help` (description and usage line), for a command and its subcommands. */
export function markRequired(cmd: Command): Command {
  cmd.configureHelp({
    optionDescription(option: Option): string {
      const text = Help.prototype.optionDescription.call(this, option);
      return option.mandatory ? `${REQUIRED} ${text}` : text;
    },
  });
  if (mandatory(cmd).length > 0) cmd.usage(usageLine(cmd));
  for (const sub of cmd.commands) markRequired(sub);
  return cmd;
}

/**
 * What a command called with no arguments at all lacks (required arguments and options not set by
 * their environment variable), or undefined when it lacks nothing.
 */
export function missingWhenBare(cmd: Command, env: Readonly<Record<string, string | undefined>>): string[] {
  const args = cmd.registeredArguments.filter((a) => a.required).map((a) => `<${a.name()}>`);
  const options = mandatory(cmd)
    .filter((o) => o.envVar === undefined || env[o.envVar] === undefined)
    .map((o) => o.flags);
  return [...args, ...options];
}
