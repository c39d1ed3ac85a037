import { useEffect, useRef, useState, type PointerEvent } from 'react';
import type { ImageEdits, Rect } from './sanitise-image';

type Mode = 'crop' | 'blur';

/**
 * Crop and blur before sending: drag a rectangle on the preview. Coordinates are kept in the
 * image's own pixels (as displayed, i.e. after its EXIF orientation), which is what
 * sanitiseImage draws from. The preview is of the local file only and never leaves the device.
 */
export function ImageEditor({ file, edits, onChange }: { file: File; edits: ImageEdits; onChange: (edits: ImageEdits) => void }) {
  const [url, setUrl] = useState<string | null>(null);
  const [mode, setMode] = useState<Mode>('blur');
  const [drag, setDrag] = useState<{ start: { x: number; y: number }; rect: Rect } | null>(null);
  const image = useRef<HTMLImageElement>(null);

  useEffect(() => {
    const objectUrl = URL.createObjectURL(file);
    setUrl(objectUrl);
    return () => URL.revokeObjectURL(objectUrl);
  }, [file]);

  /** Pointer position in image pixels. */
  const at = (event: PointerEvent) => {
    const img = image.current!;
    const box = img.getBoundingClientRect();
    const sx = img.naturalWidth / box.width;
    const sy = img.naturalHeight / box.height;
    return { x: Math.max(0, Math.min(img.naturalWidth, (event.clientX - box.left) * sx)), y: Math.max(0, Math.min(img.naturalHeight, (event.clientY - box.top) * sy)) };
  };
  const rectOf = (a: { x: number; y: number }, b: { x: number; y: number }): Rect => ({ x: Math.min(a.x, b.x), y: Math.min(a.y, b.y), width: Math.abs(a.x - b.x), height: Math.abs(a.y - b.y) });

  const onDown = (event: PointerEvent<HTMLDivElement>) => {
    if (!image.current) return;
    event.currentTarget.setPointerCapture(event.pointerId);
    const start = at(event);
    setDrag({ start, rect: { ...start, width: 0, height: 0 } });
  };
  const onMove = (event: PointerEvent<HTMLDivElement>) => {
    if (drag) setDrag({ ...drag, rect: rectOf(drag.start, at(event)) });
  };
  const onUp = () => {
    if (!drag) return;
    const { rect } = drag;
    setDrag(null);
    if (rect.width < 4 || rect.height < 4) return;
    onChange(mode === 'crop' ? { ...edits, crop: rect } : { ...edits, blur: [...edits.blur, rect] });
  };

  /** Percent boxes over the preview. */
  const box = (r: Rect) => {
    const img = image.current;
    if (!img?.naturalWidth) return {};
    return { left: `${(r.x / img.naturalWidth) * 100}%`, top: `${(r.y / img.naturalHeight) * 100}%`, width: `${(r.width / img.naturalWidth) * 100}%`, height: `${(r.height / img.naturalHeight) * 100}%` };
  };

  return (
    <div className="image-editor">
      <div className="button-row" role="group" aria-label="Edit before sending">
        <button type="button" className={`button button-small ${mode === 'blur' ? 'button-primary' : 'button-secondary'}`} aria-pressed={mode === 'blur'} onClick={() => setMode('blur')}>
          Blur area
        </button>
        <button type="button" className={`button button-small ${mode === 'crop' ? 'button-primary' : 'button-secondary'}`} aria-pressed={mode === 'crop'} onClick={() => setMode('crop')}>
          Crop
        </button>
        {(edits.crop || edits.blur.length > 0) && (
          <button type="button" className="button button-small button-secondary" onClick={() => onChange({ crop: null, blur: [] })}>
            Undo edits
          </button>
        )}
      </div>
      <p className="muted small">Drag over the photo to {mode === 'blur' ? 'blur faces or name labels' : 'choose what to keep'}. Location and camera data are removed before sending.</p>
      <div
        className="image-editor-canvas"
        style={{ position: 'relative', display: 'inline-block', touchAction: 'none', cursor: 'crosshair', maxWidth: '100%' }}
        onPointerDown={onDown}
        onPointerMove={onMove}
        onPointerUp={onUp}
        data-testid="image-editor"
      >
        {url && <img ref={image} src={url} alt="Photo to send" draggable={false} style={{ display: 'block', maxWidth: '100%', maxHeight: '320px' }} />}
        {edits.crop && <div aria-hidden style={{ position: 'absolute', outline: '2px dashed #fff', boxShadow: '0 0 0 9999px rgba(0,0,0,0.45)', ...box(edits.crop) }} />}
        {edits.blur.map((r, i) => (
          <div key={i} aria-hidden style={{ position: 'absolute', backdropFilter: 'blur(8px)', background: 'rgba(128,128,128,0.35)', ...box(r) }} />
        ))}
        {drag && <div aria-hidden style={{ position: 'absolute', outline: '2px solid #39f', ...box(drag.rect) }} />}
      </div>
    </div>
  );
}
