/** Reads our domain XML back with xml2js's parser, into the few shapes the tests check. */
import { parseStringPromise } from 'xml2js';

type Element = { $?: Record<string, string>; _?: string } & { [child: string]: Element[] | undefined };

export interface ParsedDomain {
  root: Element;
  /** Text of the first element at a path of child names. */
  text(...path: string[]): string | undefined;
  attrs(...path: string[]): Record<string, string> | undefined;
  all(...path: string[]): Element[];
}

function textOf(node: Element | string | undefined): string | undefined {
  return typeof node === 'string' ? node : node?._;
}

export async function parseDomain(xml: string): Promise<ParsedDomain> {
  const parsed = (await parseStringPromise(xml)) as { domain: Element };
  const root = parsed.domain;
  const all = (...path: string[]): Element[] =>
    path.reduce<Element[]>((nodes, name) => nodes.flatMap((node) => node[name] ?? []), [root]);
  return {
    root,
    all,
    text: (...path) => textOf(all(...path)[0] as Element | string | undefined),
    attrs: (...path) => all(...path)[0]?.$,
  };
}
