using System.ComponentModel.DataAnnotations;
using IdentityServer.Accounts;
using IdentityServer.Accounts.Email;
using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Account;

/// <summary>
/// Local registration (off when <c>Accounts:AllowRegistration</c> is false: the page does not exist then). The
/// password is hashed by Identity and must satisfy its rules; the email is stored unverified, so it never links or
/// identifies anything by itself and may repeat another account's: the form therefore never says whether an account
/// with that email exists. With an SMTP server configured, a verification link goes to the address. A chosen user name must be free, as on any site where people pick one.
/// </summary>
[RateLimited(RateLimitScope.SignIn)]
public sealed class RegisterModel(UserManager<ApplicationUser> users, SignInManager<ApplicationUser> signIn, AccountOptions accounts, TimeProvider time,
    ILogger<RegisterModel> logger, AuditLog audit, AccountEmails emails) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    [BindProperty]
    [Required(ErrorMessage = "Choose a user name.")]
    [StringLength(64, ErrorMessage = "A user name has at most 64 characters.")]
    [RegularExpression("^[A-Za-z0-9._-]+$", ErrorMessage = "A user name uses letters, digits, dots, dashes and underscores.")]
    [Display(Name = "User name")]
    public string UserName { get; set; } = "";

    [BindProperty]
    [Required(ErrorMessage = "Enter your email address.")]
    [EmailAddress(ErrorMessage = "Enter a valid email address.")]
    [StringLength(256)]
    [Display(Name = "Email")]
    public string Email { get; set; } = "";

    [BindProperty]
    [StringLength(256)]
    [Display(Name = "Name")]
    public string? Name { get; set; }

    [BindProperty]
    [Required(ErrorMessage = "Choose a password.")]
    [StringLength(1024)]
    [Display(Name = "Password")]
    public string Password { get; set; } = "";

    [BindProperty]
    [Compare(nameof(Password), ErrorMessage = "The two passwords differ.")]
    [Display(Name = "Password again")]
    public string ConfirmPassword { get; set; } = "";

    public IReadOnlyList<string> Errors { get; private set; } = [];

    public int MinimumPasswordLength => users.Options.Password.RequiredLength;

    public IActionResult OnGet() => accounts.AllowRegistration ? Page() : NotFound();

    public async Task<IActionResult> OnPostAsync()
    {
        if (!accounts.AllowRegistration)
        {
            return NotFound();
        }

        if (!ModelState.IsValid)
        {
            Errors = [.. ModelState.Values.SelectMany(v => v.Errors).Select(e => e.ErrorMessage)];
            return Page();
        }

        var user = new ApplicationUser
        {
            UserName = UserName,
            Email = Email,
            EmailConfirmed = false,
            Name = string.IsNullOrWhiteSpace(Name) ? null : Name.Trim(),
            UpdatedAt = time.GetUtcNow().UtcDateTime,
        };
        var result = await users.CreateAsync(user, Password);
        if (!result.Succeeded)
        {
            Errors = [.. result.Errors.Select(Describe).Distinct()];
            return Page();
        }

        await signIn.SignInWithClaimsAsync(user, isPersistent: false, SignInSession.NewSessionClaims(time.GetUtcNow(), AuthenticationMethods.Password));
        logger.LogInformation("User {UserId} registered", user.Id);
        await audit.RecordSignInAsync(user, "account.registered", AuditOutcomes.Success, AuthorizeReturnUrl.ClientIdOf(ReturnUrl));
        // The address stays unverified until its owner opens the link (without an SMTP server it stays unverified).
        await emails.SendVerificationAsync(user);
        return LocalRedirect(ReturnUrl is not null && Url.IsLocalUrl(ReturnUrl) ? ReturnUrl : "/");
    }

    private string Describe(IdentityError error) => error.Code switch
    {
        nameof(IdentityErrorDescriber.DuplicateUserName) => "That user name is taken. Choose another.",
        nameof(IdentityErrorDescriber.InvalidUserName) => "A user name uses letters, digits, dots, dashes and underscores.",
        _ => PasswordRuleText.For(error, MinimumPasswordLength) ?? "The account could not be created. Check the form and try again.",
    };
}
