import { describeDevice } from '../ui/format';

/** A default name that tells the user's passkeys apart ("Chrome on macOS"). */
export const suggestedPasskeyName = () => describeDevice(navigator.userAgent);
