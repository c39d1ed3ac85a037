import { useEffect, useState } from 'react';
import type { Device } from '@consilium/protocol';
import { listDevices, revokeDevice } from '../api/messaging';
import { Badge } from '../ui/Badge';
import { ErrorAlert } from '../ui/ErrorAlert';
import { formatDateTime } from '../ui/format';
import { ConfirmDialog } from '../ui/ConfirmDialog';
import { useLoaded } from '../ui/use-loaded';

const loadDevices = () => listDevices();

/** The safety fingerprint, computed by the (lazily loaded) MLS layer. */
function Fingerprint({ device }: { device: Device }) {
  const [text, setText] = useState<string | null>(null);
  useEffect(() => {
    let current = true;
    void import('../messaging/engine')
      .then(({ fingerprintOf }) => fingerprintOf(device))
      .then((fp) => current && setText(fp), () => current && setText('unavailable'));
    return () => {
      current = false;
    };
  }, [device]);
  return (
    <p className="small">
      Safety fingerprint: <code className="fingerprint" data-testid="device-fingerprint">{text ?? '…'}</code>
    </p>
  );
}

function DeviceRow({ device, onRevoked }: { device: Device; onRevoked: () => void }) {
  const [confirming, setConfirming] = useState(false);
  return (
    <li className={`list-row${device.revokedAt ? ' row-muted' : ''}`}>
      <div className="list-row-main">
        <p className="list-row-title">
          {device.name} {device.current && <Badge tone="accent">This device</Badge>} {device.revokedAt && <Badge tone="danger">Revoked</Badge>}
        </p>
        <p className="muted small">
          Added {formatDateTime(device.createdAt)}
          {device.lastSeenAt ? ` · Last active ${formatDateTime(device.lastSeenAt)}` : ''}
          {device.revokedAt ? ` · Revoked ${formatDateTime(device.revokedAt)}` : ''}
        </p>
        {!device.revokedAt && <Fingerprint device={device} />}
      </div>
      {!device.revokedAt && !device.current && (
        <button
          type="button"
          className="button button-danger-quiet button-small"
          aria-label={`Revoke ${device.name}, added ${formatDateTime(device.createdAt)}`}
          onClick={() => setConfirming(true)}
        >
          Revoke
        </button>
      )}
      {confirming && (
        <ConfirmDialog
          title="Revoke this device?"
          confirmLabel="Revoke device"
          onClose={() => setConfirming(false)}
          onConfirm={async () => {
            await revokeDevice(device.id);
            onRevoked();
          }}
        >
          <p>
            {device.name}, added {formatDateTime(device.createdAt)}, is signed out at once and can no longer send or receive messages. Its
            keys stay on that device but the server refuses it from now on.
          </p>
        </ConfirmDialog>
      )}
    </li>
  );
}

/** The account's messaging devices, each with a fingerprint two people can compare. */
export function DevicesSection() {
  const [devices, reload] = useLoaded(loadDevices);
  return (
    <section className="card" aria-labelledby="devices-heading">
      <h2 id="devices-heading" className="card-title">
        Devices
      </h2>
      <p className="muted">
        Each device holds its own encryption keys. Compare a device&apos;s safety fingerprint with what a colleague sees for you to make sure
        nobody is listening in. Revoke a device you no longer use or have lost.
      </p>
      {devices.status === 'loading' && <p className="muted">Loading devices…</p>}
      {devices.status === 'failed' && <ErrorAlert error={devices.error} />}
      {devices.status === 'ready' && devices.data.devices.length === 0 && <p className="muted">No devices yet.</p>}
      {devices.status === 'ready' && (
        <ul className="list">
          {devices.data.devices.map((device) => (
            <DeviceRow key={device.id} device={device} onRevoked={reload} />
          ))}
        </ul>
      )}
    </section>
  );
}
