import type { ReactNode } from 'react';
import { BrandMark } from '../ui/BrandMark';

/** The calm, centred frame around every screen before sign-in completes. */
export function AuthLayout({ children, wide = false }: { children: ReactNode; wide?: boolean }) {
  return (
    <div className="auth-layout">
      <header className="auth-brand">
        <BrandMark size={36} />
        <span className="auth-brand-name">Consilium</span>
      </header>
      <main className={`auth-card${wide ? ' auth-card-wide' : ''}`}>{children}</main>
      <footer className="auth-footer">Secure collaboration for healthcare professionals</footer>
    </div>
  );
}
