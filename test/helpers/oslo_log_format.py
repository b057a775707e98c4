"""Formats log records with oslo.log itself, for byte-for-byte comparison with nova-spawnd's formatters.

stdin: JSON {"options": {oslo.log option: value}, "records": [record, ...]}, where a record is
  {name, levelno, msg, created_ms, process, relative_created, func, pathname, lineno,
   context: dict or null, instance_uuid: str or null, extra: {key: value}, error: {type, message} or null}
stdout: JSON [{"text": ContextFormatter's line, "json": JSONFormatter's object, "journal": OSJournalHandler's
  fields (journal.send captured), "traceback": the Python traceback text of the error, or null}, ...]

Run it with TZ set: asctime is local time.
"""
import json
import logging
import sys
import traceback

from oslo_config import cfg
from oslo_log import formatters
from oslo_log import handlers
from oslo_log import log


class CapturedJournal:
    """Stands in for systemd.journal (not installed here): keeps what OSJournalHandler sends."""

    def __init__(self):
        self.sent = None

    def send(self, message, **fields):
        self.sent = {'MESSAGE': message, **{key: str(value) for key, value in fields.items()}}


def exc_info_for(error):
    exception_type = type(error['type'], (Exception,), {})
    try:
        raise exception_type(error['message'])
    except Exception:
        return sys.exc_info()


def make_record(spec):
    exc_info = exc_info_for(spec['error']) if spec['error'] else None
    record = logging.LogRecord(spec['name'], spec['levelno'], spec['pathname'], spec['lineno'], spec['msg'], (), exc_info,
                               func=spec['func'])
    record.created = spec['created_ms'] / 1000
    record.msecs = float(spec['created_ms'] % 1000)
    record.relativeCreated = spec['relative_created']
    record.process = spec['process']
    # What KeywordArgumentAdapter does with LOG.info(msg, instance_uuid=..., key=value).
    extra = dict(spec['extra'])
    if spec['instance_uuid']:
        extra['instance_uuid'] = spec['instance_uuid']
    for key, value in extra.items():
        setattr(record, key, value)
    record.extra_keys = sorted(extra)
    if spec['context'] is not None:
        record.context = spec['context']
    return record, exc_info


def main():
    request = json.load(sys.stdin)
    conf = cfg.ConfigOpts()
    log.register_options(conf)
    conf([], project='nova')
    for name, value in request['options'].items():
        conf.set_override(name, value)
    text = formatters.ContextFormatter(project='nova-spawnd', version='0', datefmt=conf.log_date_format, config=conf)
    as_json = formatters.JSONFormatter(datefmt=conf.log_date_format)
    journal = CapturedJournal()
    handlers.journal = journal
    journal_handler = handlers.OSJournalHandler()
    journal_handler.binary_name = 'nova-spawnd'
    journal_handler.setFormatter(text)
    out = []
    for spec in request['records']:
        record, exc_info = make_record(spec)
        formatted = text.format(record)
        record, _ = make_record(spec)
        json_object = json.loads(as_json.format(record))
        record, _ = make_record(spec)
        journal_handler.emit(record)
        out.append({
            'text': formatted,
            'json': json_object,
            'journal': journal.sent,
            'traceback': ''.join(traceback.format_exception(*exc_info)) if exc_info else None,
        })
    json.dump(out, sys.stdout)


main()
