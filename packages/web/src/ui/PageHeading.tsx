import { useEffect, useRef, type ReactNode } from 'react';
import { hasNavigatedSinceLoad } from '../app/route';

interface PageHeadingProps {
  children: ReactNode;
  /** Text for the browser tab; defaults to the heading when it is plain text. */
  title?: string;
  /**
   * When the heading takes focus on arrival: after an in-app navigation (default), always (a step
   * that replaced the control the user was on), or never (a screen whose first field takes focus).
   */
  focus?: 'after-navigation' | 'always' | 'never';
}

/**
 * A screen's h1. It names the tab and, after an in-app navigation, takes focus so screen reader
 * and keyboard users start at the top of the new screen.
 */
export function PageHeading({ children, title, focus = 'after-navigation' }: PageHeadingProps) {
  const ref = useRef<HTMLHeadingElement>(null);
  const tabTitle = title ?? (typeof children === 'string' ? children : undefined);

  useEffect(() => {
    if (tabTitle) document.title = `${tabTitle} · Consilium`;
  }, [tabTitle]);

  useEffect(() => {
    if (focus === 'always' || (focus === 'after-navigation' && hasNavigatedSinceLoad())) ref.current?.focus();
    // Only on arrival: later renders must not pull focus away from what the user is doing.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  return (
    <h1 ref={ref} tabIndex={-1} className="page-heading">
      {children}
    </h1>
  );
}
