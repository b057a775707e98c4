/** What the bus reads from the configuration, checked once when the daemon starts. */
import type { EndpointFilter } from '../clients/catalog.js';
import { ConfigError, type ConfigProblem } from '../config/config-error.js';
import { maskSecret } from '../config/render.js';
import type { NovaConfig } from '../config/schema.js';
import { parseTransportUrl, type BrokerAddress } from './transport-url.js';
import type { QueueMode } from './topology.js';
import { TransportUrlError } from './transport-url-error.js';

/** oslo.messaging's notification drivers that publish to the bus: 1.0 without the envelope, 2.0 with it. */
export type NotificationDriver = 'messaging' | 'messagingv2';

/** `[oslo_messaging_rabbit] ssl*`: TLS as oslo's _fetch_ssl_params sets it up. */
export interface TlsOptions {
  /** Verify the broker's certificate against this CA bundle; without one oslo (and we) do not verify. */
  caFile: string | null;
  certFile: string | null;
  keyFile: string | null;
}

export interface BrokerOptions {
  brokers: BrokerAddress[];
  tls: TlsOptions | null;
  /** Negotiated with the broker as oslo's kombu connection does; 0 turns heartbeats off. */
  heartbeatSeconds: number;
}

export interface BusOptions {
  host: string;
  controlExchange: string;
  rpc: BrokerOptions;
  /** The broker notifications go to (`[oslo_messaging_notifications] transport_url`, else the RPC one). */
  notificationBroker: BrokerOptions;
  queueMode: QueueMode;
  /** `[DEFAULT] max_concurrent_builds`: builds at a time; 0 = unlimited. */
  maxConcurrentBuilds: number;
  /**
   * `[oslo_messaging_rabbit] rabbit_qos_prefetch_count`: deliveries unacked per consumer; 0 = unlimited. Not
   * max_concurrent_builds: builds waiting for network-vif-plugged hold their messages, and the
   * external_instance_event casts carrying those events come on the same queue behind them.
   */
  prefetch: number;
  /** Which notifications go out, through which drivers, to which topics. */
  notifications: NotificationStreams;
  /** Where Glance is, for the legacy notifications' image_ref_url (glance.API().generate_image_url). */
  image: ImageEndpoint;
  /** `[nova_spawnd] dead_letter_max_length`: the dead-letter queue's bound, 0 for none. */
  deadLetterMaxLength: number;
}

/** One format's notifications: the drivers that publish them (none: the format is off) and the topics. */
export interface NotificationStream {
  drivers: NotificationDriver[];
  topics: string[];
}

/** Nova's versioned notifications (instance.create.end, ...) and its legacy ones (compute.instance.create.end, ...). */
export interface NotificationStreams {
  versioned: NotificationStream;
  legacy: NotificationStream;
}

/** `[glance] api_servers`, else the image endpoint of the request context's service catalog. */
export interface ImageEndpoint {
  apiServers: string[];
  endpointOverride: string | null;
  filter: EndpointFilter;
}

/**
 * The one place that decides which notifications go out, by Nova's rules (nova/rpc.py init): the legacy
 * notifier with notification_format "unversioned" (Nova's default) or "both", to [oslo_messaging_notifications]
 * topics; the versioned one with "versioned" or "both", to [notifications] versioned_notifications_topics;
 * each through every messaging driver listed (others, like log or noop, are not ours).
 */
export function notificationStreams(config: Pick<NovaConfig, 'notifications' | 'oslo_messaging_notifications'>): NotificationStreams {
  const format = config.notifications.notification_format;
  const listed = config.oslo_messaging_notifications.driver;
  const drivers = (['messaging', 'messagingv2'] as const).filter((driver) => listed.includes(driver));
  return {
    versioned: { drivers: format === 'unversioned' ? [] : drivers, topics: config.notifications.versioned_notifications_topics },
    legacy: { drivers: format === 'versioned' ? [] : drivers, topics: config.oslo_messaging_notifications.topics },
  };
}

export function readBusOptions(config: NovaConfig): BusOptions {
  const problems: ConfigProblem[] = [];
  const brokersOf = (section: string, url: string): BrokerAddress[] => {
    try {
      return parseTransportUrl(url);
    } catch (error) {
      if (!(error instanceof TransportUrlError)) throw error;
      problems.push({ section, option: 'transport_url', value: maskSecret(url), reason: error.reason });
      return [];
    }
  };
  const rabbit = config.oslo_messaging_rabbit;
  const tls: TlsOptions | null = rabbit.ssl
    ? { caFile: rabbit.ssl_ca_file || null, certFile: rabbit.ssl_cert_file || null, keyFile: rabbit.ssl_key_file || null }
    : null;
  const broker = (brokers: BrokerAddress[]): BrokerOptions => ({ brokers, tls, heartbeatSeconds: rabbit.heartbeat_timeout_threshold });
  const rpc = broker(brokersOf('DEFAULT', config.DEFAULT.transport_url));
  const notificationUrl = config.oslo_messaging_notifications.transport_url;
  const notificationBroker = notificationUrl === null ? rpc : broker(brokersOf('oslo_messaging_notifications', notificationUrl));
  if (problems.length > 0) throw new ConfigError(problems, 'invalid message bus options');
  return {
    host: config.DEFAULT.host,
    controlExchange: config.DEFAULT.control_exchange,
    rpc,
    notificationBroker,
    queueMode: {
      quorum: rabbit.rabbit_quorum_queue,
      // oslo's Connection.durable: quorum queues are always durable.
      durable: rabbit.amqp_durable_queues || rabbit.rabbit_quorum_queue,
      autoDelete: rabbit.amqp_auto_delete,
    },
    maxConcurrentBuilds: config.DEFAULT.max_concurrent_builds,
    prefetch: rabbit.rabbit_qos_prefetch_count,
    notifications: notificationStreams(config),
    image: {
      apiServers: config.glance.api_servers,
      endpointOverride: config.glance.endpoint_override,
      filter: {
        service_type: config.glance.service_type,
        service_name: config.glance.service_name,
        valid_interfaces: config.glance.valid_interfaces,
        region_name: config.glance.region_name,
      },
    },
    deadLetterMaxLength: config.nova_spawnd.dead_letter_max_length,
  };
}
