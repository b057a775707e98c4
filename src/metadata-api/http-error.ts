/**
 * Error responses as Nova's handler sends them, i.e. as webob.exc renders an HTTPException: an HTML page
 * when the client's Accept prefers text/html (curl's and python-requests' "*\/*" does), a JSON document
 * when it prefers application/json, else plain text ("404 Not Found\n\nThe resource could not be found.\n\n   ").
 */
import { dumps } from '../metadata/python-json.js';
import { acceptableOffers } from './accept.js';
import { TEXT_PLAIN, APPLICATION_JSON } from './lookup.js';

export const TEXT_HTML = 'text/html; charset=UTF-8';

export interface MetadataResponse {
  status: number;
  contentType: string;
  body: Uint8Array;
  /** The Allow header of a 405. */
  allow?: string;
}

export type ErrorStatus = 400 | 403 | 404 | 405 | 409 | 500;

/** webob's title for each status Nova (and we) answer with. */
const TITLES: Readonly<Record<ErrorStatus, string>> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  500: 'Internal Server Error',
};

/** webob's default explanations, for the errors Nova raises without one. */
const EXPLANATIONS: Readonly<Record<ErrorStatus, string>> = {
  400: 'The server could not comply with the request since\r\nit is either malformed or otherwise incorrect.\r\n',
  403: 'Access was denied to this resource.',
  404: 'The resource could not be found.',
  // HTTPMethodNotAllowed's page names the method instead (bodyTemplate).
  405: '',
  409: 'There was a conflict when trying to complete your request.',
  500: 'The server has either erred or is incapable of performing\r\nthe requested operation.\r\n',
};

const encoder = new TextEncoder();

function htmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#x27;');
}

/** webob.exc.strip_tags, for the plain-text body. */
function stripTags(text: string): string {
  return text
    .replace(/\n/g, ' ')
    .replace(/\r/g, '')
    .replace(/<br.*?>/gis, '\n')
    .replace(/<!--|-->/g, '')
    .replace(/<.*?>/gs, '');
}

/** The body template: HTTPMethodNotAllowed has its own, naming the method. */
function bodyTemplate(status: ErrorStatus, explanation: string, method: string, escape: (text: string) => string): string {
  if (status === 405) return `The method ${escape(method)} is not allowed for this resource. <br /><br />\n`;
  return `${escape(explanation)}<br /><br />\n\n\n`;
}

export interface ErrorRequest {
  method: string;
  /** The Accept header, '' when there is none. */
  accept: string;
}

/** webob.exc.HTTP<status>(explanation=...) as the client at the other end would receive it. */
export function httpError(status: ErrorStatus, request: ErrorRequest, explanation?: string): MetadataResponse {
  const title = TITLES[status];
  const statusLine = `${status} ${title}`;
  const reason = explanation ?? EXPLANATIONS[status];
  const [format] = acceptableOffers(request.accept, ['text/html', 'application/json'] as const);
  let contentType: string;
  let body: string;
  if (format === 'text/html') {
    contentType = TEXT_HTML;
    body = `<html>\n <head>\n  <title>${statusLine}</title>\n </head>\n <body>\n  <h1>${statusLine}</h1>\n  ${bodyTemplate(status, reason, request.method, htmlEscape)}\n </body>\n</html>`;
  } else if (format === 'application/json') {
    contentType = APPLICATION_JSON;
    const message = bodyTemplate(status, reason, request.method, (text) => text);
    body = dumps(new Map([['message', message], ['code', statusLine], ['title', title]]));
  } else {
    contentType = TEXT_PLAIN;
    body = `${statusLine}\n\n${stripTags(bodyTemplate(status, reason, request.method, (text) => text))}`;
  }
  return { status, contentType, body: encoder.encode(body) };
}
