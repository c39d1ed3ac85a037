import { PageHeading } from '../ui/PageHeading';
import { AccountSection } from './AccountSection';
import { DevicesSection } from './DevicesSection';
import { PrivacySection } from './PrivacySection';
import { SessionsSection } from './SessionsSection';
import { TwoStepSection } from './TwoStepSection';

export function ProfilePage() {
  return (
    <div className="page">
      <PageHeading>Profile</PageHeading>
      <AccountSection />
      <PrivacySection />
      <TwoStepSection />
      <SessionsSection />
      <DevicesSection />
    </div>
  );
}
